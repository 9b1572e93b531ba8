"""Developer tools: the synthetic organisation generator, the demo, a throwaway PostgreSQL."""

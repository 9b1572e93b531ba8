"""The lifecycles: every state machine defined once, and the engine that fires them."""

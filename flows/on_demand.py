"""Starting a campaign's run through the `on-demand` deployment (a worker runs it) and following
its flow run, for the console: it never waits for the run itself."""

import datetime as dt
import inspect
import uuid
from dataclasses import dataclass

from flows.database_url import database_name

DEPLOYMENT = "campaign/on-demand"


def prefect_server_configured() -> bool:
    """Whether this process talks to a Prefect server (PREFECT_API_URL), as a `campaign run`
    in it would: else Prefect would start a temporary server for each run."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def start_on_demand(code: str, as_of: dt.date, *, actor: str, database_url: str) -> str:
    """Create a flow run of the on-demand deployment for campaign `code` at `as_of`; its id.
    The database is named without its password (the worker knows it)."""
    from prefect.deployments import run_deployment

    parameters = {
        "code": code,
        "as_of": as_of.isoformat(),
        "actor": actor,
        "database_url": database_name(database_url),
    }
    flow_run = run_deployment(DEPLOYMENT, parameters=parameters, timeout=0)
    assert not inspect.isawaitable(flow_run)  # called from a thread without an event loop
    return str(flow_run.id)


@dataclass(frozen=True)
class FlowRunState:
    """A flow run's state as Prefect tells it: its campaign, its name, whether it ended, and
    its message."""

    code: str
    name: str
    final: bool
    failed: bool
    message: str


def flow_run_state(flow_run_id: str) -> FlowRunState | None:
    """The state of flow run `flow_run_id`, None if Prefect does not know it."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        wanted = uuid.UUID(flow_run_id)
    except ValueError:  # not a flow run's id: nothing to ask Prefect
        return None
    try:
        with get_client(sync_client=True) as client:
            found = client.read_flow_run(wanted)
    except ObjectNotFound:
        return None
    state, code = found.state, str(found.parameters.get("code", ""))
    if state is None:
        return FlowRunState(code, "Pending", False, False, "")
    failed = state.is_failed() or state.is_crashed() or state.is_cancelled()
    return FlowRunState(
        code, state.name or state.type.value, state.is_final(), failed, state.message or ""
    )


def flow_run_link(flow_run_id: str | None) -> str | None:
    """The address of a flow run in Prefect's UI, when a UI is configured."""
    from prefect.settings import PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}" if ui and flow_run_id else None

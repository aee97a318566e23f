"""The operator's alert: a Prefect automation that, when a flow run of a statenotes deployment ends
Failed or Crashed, sends a notification through a webhook block. `statenotes serve` creates both
(replacing its earlier ones) when `alert_webhook_url` is set; the Prefect server fires it, so it
works for runs of a work pool's worker too."""

from __future__ import annotations

from uuid import UUID

BLOCK_NAME = "statenotes-alerts"
AUTOMATION_NAME = "statenotes: a run failed"
RUN_TAG = "statenotes"  # every statenotes deployment's runs carry it (flows/deployments.py TAGS)
SUBJECT = "statenotes: {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name }}"
# The state's message is the run's one-line reason (e.g. a refused range, the site unreachable).
BODY = ("{{ flow.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }}: {{ flow_run.state.message }}\n"
        "{{ flow_run|ui_url }}")


def ensure_failure_alert(webhook_url: str) -> UUID:
    """Create (or replace) the webhook block and the automation; returns the automation's id."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    block = CustomWebhookNotificationBlock(name=BLOCK_NAME, url=webhook_url, method="POST",
                                           json_data={"subject": "{{subject}}", "text": "{{body}}"})
    block_id = block.save(BLOCK_NAME, overwrite=True)
    automation = AutomationCore(
        name=AUTOMATION_NAME,
        description="Notifies the statenotes operator through the webhook block statenotes-alerts.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
            match_related={"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{RUN_TAG}"},
            posture=Posture.Reactive, threshold=1),
        actions=[SendNotification(block_document_id=block_id, subject=SUBJECT, body=BODY)])
    with get_client(sync_client=True) as client:
        for old in client.read_automations_by_name(AUTOMATION_NAME):
            client.delete_automation(old.id)
        return client.create_automation(automation)

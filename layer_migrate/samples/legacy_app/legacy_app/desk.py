"""Support-desk logic on top of the Layer client: tickets are distinct conversations."""

from .layer_client import LayerClient


class SupportDesk:
    def __init__(self, client=None):
        self.client = client or LayerClient()

    def open_ticket(self, customer, agent, subject):
        conversation = self.client.create_conversation(
            [customer, agent], metadata={"subject": subject, "status": "open"}, distinct=False)
        self.client.send_bot_message(conversation["id"].rsplit("/", 1)[-1],
                                     f"Hi! {agent} will help you with: {subject}")
        return conversation

    def escalate(self, conversation_id, supervisor):
        self.client.patch_participants(conversation_id, add=[supervisor])
        return self.client.participants_of(conversation_id)

    def agents_on(self, conversation_id, agents):
        return [a for a in agents if a in self.client.get_conversation(conversation_id)["participants"]]

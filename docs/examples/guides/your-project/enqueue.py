# enqueue.py
from functions.actions import enqueue_async_action

action_id = enqueue_async_action("send_email", {"to": "a@example.com", "subject": "Hi"})
print(action_id)

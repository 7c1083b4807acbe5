"""A handler module whose import never finishes: the process runtime's init timeout."""

import time

time.sleep(120)


def handler(event, context):
    return "never"

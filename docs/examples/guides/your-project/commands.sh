pip install /path/to/action-scheduler-aws
export ACTION_SCHEDULER_STACK=ActionScheduler
python enqueue.py

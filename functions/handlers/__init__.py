"""The Lambda functions' entry points, one module each; no logic lives here.

Importing any of them on Lambda pauses the garbage collector until the first request
has been served (functions/coldstart.py says why).
"""

from functions.coldstart import pause_collection

pause_collection()

"""`breathring web`: the phone page and its JSON API, a client of the control socket.

A separate process from the LED service (which has no network): it holds no
state of its own and reaches the device only through the control socket.
"""

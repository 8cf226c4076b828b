"""Live events: what open dashboard pages are told about, in order, without loss.

Producers call ``publish()`` (``live.publish``) in the transaction of their change; the event
is written with ids allocated just before the commit and the streams of every process are
woken after it (``live.bus``); each process reads a workspace's new events once and fans them
out to its open streams (``live.hub``).
"""

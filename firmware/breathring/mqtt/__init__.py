"""`breathring mqtt`: the Home Assistant bridge, a client of the control socket (control/client.py).

bridge.py (the two sides and their reconnects), discovery.py (topics and HA
configs; pure), settings.py (the `[mqtt]` section, checked by the config
package, resolved: password, port, device id), cli.py (`add_mqtt_parser`, `cmd_mqtt`).
paho-mqtt is imported only by bridge.py, so the rest works without the extra.
"""

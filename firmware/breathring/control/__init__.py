"""The local control socket: protocol (the one place both sides look), server, clients."""

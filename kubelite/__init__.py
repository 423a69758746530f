"""The single entry point: `kubelite server|agent|up|down|kubectl|runtime|controller-manager|scheduler`."""

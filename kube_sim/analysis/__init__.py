"""Statistics on saved results. Reads the store; never imports or runs the model."""

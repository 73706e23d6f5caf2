"""The teaching app: a Solara page over the model. The model never imports it."""

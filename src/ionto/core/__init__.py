"""Foundation shared by every layer: units, errors and configuration loading."""

"""One running CTI server: configuration, wiring of drivers -> model -> ACD -> API, lifecycle."""

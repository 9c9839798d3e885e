"""The Qt widgets of the agent and supervisor desktop; they bind to desktop.viewmodels only."""

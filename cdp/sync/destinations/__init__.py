"""CRM destinations of the syncs: one module per CRM, each a class implementing
cdp.sync.destinations.base.Destination."""

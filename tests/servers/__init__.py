"""Local stand-ins for the CRM APIs the syncs talk to, enforcing their documented contracts."""

"""Reverse ETL: send warehouse models to CRMs."""

"""The database layer: the only package with SQL (SQLAlchemy 2; SQLite or MySQL/MariaDB).

Repositories (tenants, agents, queues, customers, calls, audit) take a Connection and a Tenant
and return plain dataclasses from db.records; db.pool runs them from Twisted. See README.md.
"""

"""The reference Quantum v1.1 service, with the port ``configuration`` proposal.

Networks and ports with attachments (the logical L2 binding of a VIF's
interface-id to a port), served as the Quantum API v1.1 in JSON and XML.
Each network belongs to a plugin (``quantum/plugins``) that decides the
key/value configuration a port reports, which Nova's VIF drivers consume.
``GET /v2.0/ports[/{id}]`` reads the tenant's ports under Neutron's field
names, for clients that look a port up in Neutron (``quantum/api/ports_v2.py``).
"""

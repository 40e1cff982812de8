"""The neutron backend: Nova's side of a Neutron v2.0 service and its port binding."""

"""The libvirt driver: domain XML, VIF drivers and host plugging."""

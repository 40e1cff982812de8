"""Packaging for the Nova L2 network refactoring slice."""

from setuptools import find_packages
from setuptools import setup

setup(
    name="nova-l2",
    version="0.1.0",
    description=(
        "A runnable slice of OpenStack Nova carrying the 2011 network "
        "refactoring (L2) patch set and Quantum VIF configuration"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(
        include=[
            "nova",
            "nova.*",
            "migrations",
            "migrations.*",
            "quantum",
            "quantum.*",
            "api_extensions",
            "servicekit",
            "servicekit.*",
        ]
    ),
    package_data={
        "migrations": ["script.py.mako", "alembic.ini"],
        "quantum.db.migrations": ["script.py.mako"],
    },
    install_requires=[
        "SQLAlchemy>=2.0",
        "alembic>=1.13",
        "oslo.config>=9.0",
        "oslo.db>=14.0",
        "WebOb>=1.8",
        "Routes>=2.5",
        "jsonschema>=4.0",
        "fastjsonschema>=2.19",
        "lxml>=4.9",
        # The event-driven HTTP server of nova-all and quantum-server (servicekit.wsgi).
        "waitress>=3.0.2",
        "requests>=2.28",
        "Jinja2>=3.0",
        "pyroute2>=0.7",
        "libvirt-python>=9.0",
        # The config drive's ISO9660 volume, written in-process (no genisoimage).
        "pycdlib>=1.14",
        "oslo.messaging>=14.0",
        "oslo.context>=5.0",
        "oslo.log>=5.0",
        # Nova's default policy rules (reader/member/admin), an operator's policy file.
        "oslo.policy>=4.4",
        "oslo.utils>=4.0",
        # HTTPProxyToWSGI: X-Forwarded-* from a trusted proxy only.
        "oslo.middleware>=5.0",
        # The threading backend (cotyledon): messaging runs without eventlet.
        "oslo.service[threading]>=4.2",
        "stevedore>=5.0",
        "gunicorn>=21.0",
        # loads() refuses nesting past 1,024 levels: a deep body never reaches the stack.
        "orjson>=3.9",
        # os-keypairs: key pairs generated, public keys read and fingerprinted.
        "cryptography>=41.0",
        # Reads OpenStack-API-Version / X-OpenStack-Nova-API-Version as Nova does.
        "microversion-parse>=1.0",
        # auth_strategy = keystone: tokens checked by keystonemiddleware; Nova's
        # calls to Quantum/Neutron authenticate with keystoneauth1 sessions.
        "keystonemiddleware>=10.0",
        "keystoneauth1>=5.0",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "pytest-cov",
            "pytest-timeout>=2.1",
            "ruff",
            "mypy>=1.8",
            "openstacksdk>=1.0",
            "hypothesis>=6.100",
            "schemathesis>=4.0",
            "openapi-spec-validator>=0.7",
        ],
        "postgresql": ["psycopg[binary]>=3.1"],
        "mysql": ["PyMySQL>=1.0"],
        "bench": ["matplotlib>=3.7", "py-spy"],
    },
    entry_points={
        "console_scripts": [
            "nova-manage = nova.cmd.manage:main",
            "quantum-server = quantum.server:main",
            "quantum-agent = quantum.agent.agent:main",
            "nova-api = nova.cmd.api:main",
            "nova-scheduler = nova.cmd.scheduler:main",
            "nova-compute = nova.cmd.compute:main",
            "nova-all = nova.cmd.all:main",
        ],
        "nova.network.backends": [
            "quantum = nova.network.quantum.api:QuantumAPI",
            "neutron = nova.network.neutron.api:NeutronAPI",
            "legacy = nova.network.legacy.api:LegacyAPI",
        ],
        "nova.virt.drivers": [
            "libvirt = nova.virt.libvirt.driver:LibvirtDriver",
            "fake = nova.virt.fake:FakeDriver",
        ],
        "nova.virt.libvirt.vif_drivers": [
            "bridge = nova.virt.libvirt.vif:BridgeVIFDriver",
            "ethernet = nova.virt.libvirt.vif:EthernetVIFDriver",
            "tap = nova.virt.libvirt.vif:EthernetVIFDriver",
            "ovs = nova.virt.libvirt.vif:OpenVSwitchVIFDriver",
            "802.1qbh = nova.virt.libvirt.vif:Qbh8021VIFDriver",
            "802.1qbg = nova.virt.libvirt.vif:Qbg8021VIFDriver",
            "vhostuser = nova.virt.libvirt.vif:VhostUserVIFDriver",
            "template = nova.virt.libvirt.vif:TemplateVIFDriver",
        ],
        "nova.scheduler.filters": [
            "ComputeFilter = nova.scheduler.filters:compute_filter",
            "RamFilter = nova.scheduler.filters:ram_filter",
            "CoreFilter = nova.scheduler.filters:core_filter",
            "DiskFilter = nova.scheduler.filters:disk_filter",
            "AvailabilityZoneFilter = nova.scheduler.filters:availability_zone_filter",
        ],
        "quantum.plugins": [
            "linuxbridge = quantum.plugins.linuxbridge:LinuxBridgePlugin",
            "openvswitch = quantum.plugins.openvswitch:OpenVSwitchPlugin",
            "8021qbh = quantum.plugins.ieee8021q:Qbh8021Plugin",
            "8021qbg = quantum.plugins.ieee8021q:Qbg8021Plugin",
            "tap = quantum.plugins.tap:TapPlugin",
        ],
        "oslo.policy.policies": [
            "nova = nova.policies:list_rules",
            "quantum = quantum.policy:list_rules",
        ],
        "oslo.policy.enforcer": [
            "nova = nova.api.openstack.policy:get_enforcer",
            "quantum = quantum.policy:get_enforcer",
        ],
        "oslo.config.opts": [
            "nova = nova.conf.opts:list_opts",
            "quantum = quantum.conf:list_opts",
        ],
    },
)

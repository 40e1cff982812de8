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
        "cheroot>=10.0",
        "requests>=2.28",
        "Jinja2>=3.0",
        "pyroute2>=0.7",
        "libvirt-python>=9.0",
        "oslo.messaging>=14.0",
        "gunicorn>=21.0",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "pytest-cov",
            "ruff",
            "openstacksdk>=1.0",
            "hypothesis>=6.100",
            "schemathesis>=4.0",
            "openapi-spec-validator>=0.7",
        ],
        "postgresql": ["psycopg[binary]>=3.1"],
        "mysql": ["PyMySQL>=1.0"],
        "keystone": ["keystonemiddleware>=10.0"],
        "bench": ["matplotlib>=3.7", "py-spy"],
    },
    entry_points={
        "console_scripts": [
            "nova-manage = nova.cmd.manage:main",
            "quantum-server = quantum.server:main",
            "nova-api = nova.cmd.api:main",
            "nova-scheduler = nova.cmd.scheduler:main",
            "nova-compute = nova.cmd.compute:main",
            "nova-all = nova.cmd.all:main",
        ],
        "oslo.config.opts": [
            "nova = nova.conf.opts:list_opts",
            "quantum = quantum.conf:list_opts",
        ],
    },
)

"""Every configuration option of Nova, one module per area.

Options are declared only in this package and registered on the global
``cfg.CONF`` (oslo.messaging registers its own options there too).
"""

from oslo_config import cfg
from oslo_policy import opts as policy_opts

from nova.conf import api
from nova.conf import base
from nova.conf import configdrive
from nova.conf import database
from nova.conf import image
from nova.conf import libvirt
from nova.conf import network
from nova.conf import quota
from nova.conf import service
from nova.conf import wsgi

CONF = cfg.CONF

api.register_opts(CONF)
base.register_opts(CONF)
configdrive.register_opts(CONF)
database.register_opts(CONF)
configdrive.register_opts(CONF)
image.register_opts(CONF)
libvirt.register_opts(CONF)
network.register_opts(CONF)
quota.register_opts(CONF)
service.register_opts(CONF)
wsgi.register_opts(CONF)
# [oslo_policy]: oslo.policy's own options (policy_file, enforce_new_defaults, ...).
policy_opts.set_defaults(CONF)

"""Nova's exceptions: each carries a message format and an HTTP status code.

Domain code raises these; the API layer turns them into faults. Keyword
arguments given to the constructor fill the message format.
"""

from __future__ import annotations

import logging

LOG = logging.getLogger(__name__)


class NovaException(Exception):
    """Base of every Nova error; ``msg_fmt % kwargs`` is the message."""

    msg_fmt = "An unknown exception occurred."
    code = 500
    safe = False  # may the message be shown to non-admin API users?
    #: Headers of the fault response (``WWW-Authenticate`` of a 401).
    headers: tuple[tuple[str, str], ...] = ()

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        self.kwargs = kwargs
        self.kwargs.setdefault("code", self.code)
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                # A wrong format argument must not hide the original error.
                LOG.exception("Bad arguments %r for %s", kwargs, type(self).__name__)
                message = self.msg_fmt
        self.message = message
        super().__init__(message)

    def format_message(self) -> str:
        """Return the message meant for the user."""
        return self.message


class Invalid(NovaException):
    msg_fmt = "Bad request: %(reason)s"
    code = 400
    safe = True


class PluginNotFound(Invalid):
    msg_fmt = "No %(kind)s plugin %(name)r (known: %(known)s; or an import path)"


class ValidationError(Invalid):
    msg_fmt = "%(reason)s"


class NotAuthenticated(NovaException):
    msg_fmt = "Authentication required."
    code = 401
    safe = True


class IdentityServiceUnavailable(NovaException):
    msg_fmt = "The identity service cannot check tokens now; try again later."
    code = 503
    safe = True


class TokenCheckFailed(NovaException):
    msg_fmt = "Tokens cannot be checked: the authentication middleware failed (logged)."
    code = 500
    safe = True


class RequestTooLarge(NovaException):
    msg_fmt = "Request body is larger than %(limit)d bytes."
    code = 413
    safe = True


class UnsupportedMediaType(NovaException):
    msg_fmt = "Unsupported media type %(content_type)s; send application/json."
    code = 415
    safe = True


class MethodNotAllowed(NovaException):
    msg_fmt = "Method %(method)s is not allowed on this resource."
    code = 405
    safe = True


class PolicyNotAuthorized(NovaException):
    msg_fmt = "Policy doesn't allow %(action)s to be performed."
    code = 403
    safe = True


class NotFound(NovaException):
    msg_fmt = "Resource could not be found."
    code = 404
    safe = True


class Conflict(NovaException):
    msg_fmt = "Conflict: %(reason)s"
    code = 409
    safe = True


# --- database and migrations -------------------------------------------------


class DBConnectionError(NovaException):
    msg_fmt = "Cannot connect to the database %(url)s: %(reason)s"
    code = 503


class DBMigrationError(NovaException):
    msg_fmt = "Database migration failed: %(reason)s"


class DBDowngradeRefused(DBMigrationError):
    msg_fmt = "Downgrade to version %(version)s refused: %(reason)s"


class DBVersionUnknown(DBMigrationError):
    msg_fmt = "Unknown database version %(version)s (known: %(known)s)."


class BrokerUnreachable(NovaException):
    msg_fmt = "No message broker answers at %(hosts)s"


class BrokerRefused(NovaException):
    msg_fmt = "The message broker at %(host)s refused user %(user)r: %(reason)s"


class NoValidHost(NovaException):
    msg_fmt = "No valid host was found. %(reason)s"


class InProcessTransport(NovaException):
    msg_fmt = (
        "transport_url is %(url)s (in-process messaging), which only works inside nova-all"
    )


class DBSchemaOutdated(NovaException):
    msg_fmt = (
        "The database schema is at version %(version)s and this code needs %(head)s: "
        "run nova-manage db sync"
    )


# --- objects -------------------------------------------------------------------


class InstanceNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s could not be found."


class InstanceNotReady(Conflict):
    msg_fmt = "Instance %(instance_id)s is not ready."


class ConsoleNotAvailable(NotFound):
    msg_fmt = "Guest does not have a console available."


class InstanceInvalidState(Conflict):
    msg_fmt = (
        "Cannot do that while instance %(instance_id)s is in vm_state %(state)s "
        "(task_state %(task_state)s); it needs %(expected)s."
    )


class MarkerNotFound(Invalid):
    msg_fmt = "Marker %(marker)s could not be found."


class FlavorNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s could not be found."


class FlavorExists(Conflict):
    msg_fmt = "Flavor with name %(name)s already exists."


class FlavorIdExists(Conflict):
    msg_fmt = "Flavor with ID %(flavor_id)s already exists."


class FlavorExtraSpecsNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s has no extra specs with key %(extra_specs_key)s."


class ServiceNotFound(NotFound):
    msg_fmt = "Service %(service_id)s could not be found."


class HostBinaryNotFound(NotFound):
    msg_fmt = "Could not find binary %(binary)s on host %(host)s."


class HypervisorNotFound(NotFound):
    msg_fmt = "Hypervisor %(hypervisor_id)s could not be found."


class NetworkNotFound(NotFound):
    msg_fmt = "Network %(network_id)s could not be found."


class VirtualInterfaceNotFound(NotFound):
    msg_fmt = "Virtual interface %(vif_id)s could not be found."


class VirtualInterfaceMacAddressConflict(Conflict):
    msg_fmt = "MAC address %(address)s is already in use."


class VirtualInterfaceCreateFailed(NovaException):
    msg_fmt = (
        "Could not create a virtual interface for instance %(instance_id)s: "
        "no free MAC address after %(attempts)d attempts."
    )


class MetadataItemNotFound(NotFound):
    msg_fmt = "Metadata item was not found"


class NetworkLabelNotFound(NotFound):
    msg_fmt = "Instance is not a member of specified network"


class InterfaceNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s does not have a port with id %(port_id)s"


class InterfaceAttachFailed(NovaException):
    msg_fmt = "Failed to attach network adapter device to %(instance_uuid)s: %(reason)s"


class InterfaceDetachFailed(NovaException):
    msg_fmt = "Failed to detach network adapter device from %(instance_uuid)s: %(reason)s"


class FeatureNotSupported(NovaException):
    msg_fmt = "%(reason)s"
    code = 501
    safe = True


class PortInUse(Conflict):
    msg_fmt = "Port %(port_id)s is already in use."


class PortNotFound(NotFound):
    msg_fmt = "Port %(port_id)s could not be found."


class PortAttachedElsewhere(Conflict):
    msg_fmt = (
        "Port %(port_id)s is attached to %(attachment)s, not to VIF %(vif_id)s of "
        "instance %(instance_id)s."
    )


class PortBindingFailed(NovaException):
    msg_fmt = "Binding port %(port_id)s to host %(host)s failed: %(reason)s"


class ServiceAuthFailed(NovaException):
    msg_fmt = "Cannot authenticate as the [%(group)s] service user: %(reason)s"
    code = 503


class NetworkServiceUnavailable(NovaException):
    msg_fmt = "The network service at %(url)s is unavailable: %(reason)s"
    code = 503
    safe = True


class NetworkServiceError(NovaException):
    msg_fmt = "The network service answered %(status)s to %(method)s %(path)s: %(reason)s"
    code = 502


class NoMoreFixedIps(NovaException):
    msg_fmt = "No fixed IP address is free on network %(network_id)s."
    code = 409
    safe = True


class FixedIpAlreadyInUse(Conflict):
    msg_fmt = "Fixed IP %(address)s is already in use on network %(network_id)s."


# --- quotas and key pairs (Nova's messages) -------------------------------------------


class QuotaError(NovaException):
    msg_fmt = "Quota exceeded: code=%(code)s"
    code = 403
    safe = True


class TooManyInstances(QuotaError):
    msg_fmt = (
        "Quota exceeded for %(overs)s: Requested %(req)s, but already used "
        "%(used)s of %(allowed)s %(overs)s"
    )


class MetadataLimitExceeded(QuotaError):
    msg_fmt = "Maximum number of metadata items exceeds %(allowed)d"


class KeypairLimitExceeded(QuotaError):
    msg_fmt = "Quota exceeded, too many key pairs."


class QuotaBelowUsage(Invalid):
    msg_fmt = (
        "Quota limit %(limit)s for %(resource)s must be greater than or equal to "
        "already used and reserved %(minimum)s."
    )


class KeypairNotFound(NotFound):
    msg_fmt = "Keypair %(name)s not found for user %(user_id)s"


class KeyPairExists(Conflict):
    msg_fmt = "Key pair '%(key_name)s' already exists."


class InvalidKeypair(Invalid):
    msg_fmt = "Keypair data is invalid: %(reason)s"


class InvalidKeyName(Invalid):
    msg_fmt = "Invalid key_name provided."


# --- microversions -----------------------------------------------------------------


class InvalidAPIVersionString(Invalid):
    msg_fmt = (
        "API Version String %(version)s is of invalid format. Must be of format MajorNum.MinorNum."
    )


class InvalidGlobalAPIVersion(NovaException):
    msg_fmt = (
        "Version %(req_ver)s is not supported by the API. Minimum is %(min_ver)s "
        "and maximum is %(max_ver)s."
    )
    code = 406
    safe = True


# --- images --------------------------------------------------------------------------


class ImageNotFound(NotFound):
    msg_fmt = "Image %(image_id)s could not be found."


class ImageRefNotFound(Invalid):
    msg_fmt = "Can not find requested image"


class ImageNotActive(Invalid):
    msg_fmt = "Image %(image_id)s is not active."


class InvalidImageRef(Invalid):
    msg_fmt = "Invalid imageRef provided."


class FlavorMemoryTooSmall(Invalid):
    msg_fmt = "Flavor's memory is too small for requested image."


class FlavorDiskSmallerThanMinDisk(Invalid):
    msg_fmt = (
        "Flavor's disk is smaller than the minimum size specified in image metadata. "
        "Flavor disk is %(flavor_size)i bytes, minimum size is %(image_min_disk)i bytes."
    )


class FlavorDiskSmallerThanImage(Invalid):
    msg_fmt = (
        "Flavor's disk is too small for requested image. Flavor disk is "
        "%(flavor_size)i bytes, image is %(image_size)i bytes."
    )


class ImageServiceUnavailable(NovaException):
    msg_fmt = "The image service at %(url)s is unavailable: %(reason)s"
    code = 503
    safe = True


class ImageServiceError(NovaException):
    msg_fmt = "The image service answered %(status)s to %(method)s %(path)s: %(reason)s"
    code = 502


class ImageChecksumMismatch(NovaException):
    msg_fmt = "Image %(image_id)s: the %(algorithm)s of the data is %(actual)s, not %(expected)s."


class ImageUnacceptable(Invalid):
    msg_fmt = "Image %(image_id)s is unacceptable: %(reason)s"


class ImageNotAuthorized(NovaException):
    msg_fmt = "Not authorized for image %(image_id)s."
    code = 403
    safe = True

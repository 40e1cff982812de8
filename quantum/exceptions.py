"""Quantum's errors: each has the v1.1 fault name and HTTP code it maps to."""

from __future__ import annotations


class QuantumException(Exception):
    """Base error; ``msg_fmt % kwargs`` is the message."""

    msg_fmt = "An unknown error occurred."
    code = 500
    fault = "quantumServiceFault"
    #: Headers of the fault response (``WWW-Authenticate`` of a 401).
    headers: tuple[tuple[str, str], ...] = ()

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        self.kwargs = kwargs
        super().__init__(message if message is not None else self.msg_fmt % kwargs)

    @property
    def message(self) -> str:
        return str(self)


class BadRequest(QuantumException):
    msg_fmt = "Bad request: %(reason)s"
    code = 400
    fault = "malformedRequestBody"


class RequestedStateInvalid(BadRequest):
    msg_fmt = "Requested state %(state)s is invalid; use ACTIVE or DOWN."
    fault = "requestedStateInvalid"


class NotAuthenticated(QuantumException):
    msg_fmt = "Authentication required."
    code = 401
    fault = "unauthorized"


class Forbidden(QuantumException):
    msg_fmt = "Forbidden: %(reason)s"
    code = 403
    fault = "forbidden"


class NotFound(QuantumException):
    msg_fmt = "Resource not found."
    code = 404
    fault = "itemNotFound"


class NetworkNotFound(NotFound):
    msg_fmt = "Network %(net_id)s could not be found."
    fault = "networkNotFound"


class PortNotFound(NotFound):
    msg_fmt = "Port %(port_id)s could not be found on network %(net_id)s."
    fault = "portNotFound"


class AttachmentNotFound(NotFound):
    msg_fmt = "Attachment %(att_id)s is not attached to any port."


class PortIdNotFound(PortNotFound):
    """No port of that id on any of the tenant's networks (the Neutron v2.0 view)."""

    msg_fmt = "Port %(port_id)s could not be found."


class InvalidFilter(BadRequest):
    msg_fmt = "%(name)s is an invalid attribute for filtering: %(reason)s."


class MethodNotAllowed(QuantumException):
    msg_fmt = "Method %(method)s is not allowed here."
    code = 405
    fault = "badMethod"


class NetworkInUse(QuantumException):
    msg_fmt = "Network %(net_id)s still has ports; delete them first."
    code = 409
    fault = "networkInUse"


class PortInUse(QuantumException):
    msg_fmt = "Port %(port_id)s has attachment %(att_id)s; detach it first."
    code = 409
    fault = "portInUse"


class AlreadyAttached(QuantumException):
    msg_fmt = "Interface %(att_id)s cannot be attached to port %(port_id)s: %(reason)s."
    code = 409
    fault = "alreadyAttached"


class RequestTooLarge(QuantumException):
    msg_fmt = "Request body larger than %(limit)d bytes."
    code = 413
    fault = "overLimit"


class UnsupportedMediaType(QuantumException):
    msg_fmt = "Unsupported content type %(content_type)s; use JSON or XML."
    code = 415
    fault = "badMediaType"


class ServiceUnavailable(QuantumException):
    msg_fmt = "The service is unavailable: %(reason)s"
    code = 503
    fault = "serviceUnavailable"


class PluginNotFound(QuantumException):
    msg_fmt = "Unknown plugin %(plugin)s."
    code = 400
    fault = "malformedRequestBody"


class InvalidIpForNetwork(BadRequest):
    msg_fmt = (
        "IP address %(ip_address)s is not a valid IP for any of the subnets on the "
        "specified network."
    )
    fault = "invalidIpForNetwork"


class InvalidIpForSubnet(BadRequest):
    msg_fmt = "IP address %(ip_address)s is not a valid IP for the specified subnet."
    fault = "invalidIpForSubnet"


class IpAddressInUse(QuantumException):
    msg_fmt = (
        "Unable to complete operation for network %(net_id)s. "
        "The IP address %(ip_address)s is in use."
    )
    code = 409
    fault = "ipAddressInUse"


class IpAddressGenerationFailure(QuantumException):
    msg_fmt = "No more IP addresses available on network %(net_id)s."
    code = 409
    fault = "ipAddressGenerationFailure"


class SubnetInUse(QuantumException):
    msg_fmt = "Unable to complete operation on subnet of network %(net_id)s: %(reason)s."
    code = 409
    fault = "subnetInUse"

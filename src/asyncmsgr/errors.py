"""The asyncmsgr exception tree, typed by who is at fault.

::

    AsyncmsgrError
      ProtocolError                       (wire code in ``error_code``)
        LocalProtocolError                we were asked to do something invalid
          EncodeError                     a value does not fit its wire field
          NonceExhausted                  secure-mode nonce counter would wrap
        RemoteProtocolError               the peer sent something invalid
          DecodeError                     malformed encoding (truncated, bad count, ...)
            IncompatibleEncoding          struct compat_v newer than we understand
            CephxDecryptError             cephx AES-CBC: bad length, padding or magic
          FrameError                      msgr2 framing
            BadPreambleCrc
            BadSegmentCrc                 rev1 inline crc or epilogue crc
            BadFrameStructure             num_segments, empty last segment, late status
            FrameTooLarge                 a segment exceeds its cap
            DecryptError                  AES-GCM tag mismatch (secure mode)
            UnknownTag
          MessageError
            BadMessageCrc                 v1 header / footer crc, or data crc
            BadSignature                  v1 cephx message signature mismatch
            MessageAborted                v1 footer without COMPLETE (sender aborted)
            UnknownMessageType            no class registered (carries the raw parts)
            MessageDecodeError            registered class failed to decode its payload
          HandshakeError
            BannerMismatch                not a Ceph banner, or the other protocol
            MissingFeatures               peer requires features we lack
            WrongPeer                     the peer is not the address dialled (or dialled not us)
            ConnectRefused                v1: BADPROTOVER, BADAUTHORIZER, RESETSESSION...
            AuthFailed                    authentication refused (carries -errno)
    ConnectionClosed                      we closed it
    ConnectionBroken                      the peer or the network broke it (cause chained)
    WouldBlock                            a *_nowait call that would have to wait
    KeyringError                          a keyring file or key cannot be used

Every decoder in this package raises only :class:`RemoteProtocolError` subclasses
for bad input; any other exception escaping a decoder is a bug.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from asyncmsgr.message import MsgHeader


class AsyncmsgrError(Exception):
    """Base of every exception raised by asyncmsgr."""


class ProtocolError(AsyncmsgrError):
    """A protocol rule was broken. ``error_code`` is the errno Ceph would report."""

    error_code: ClassVar[int] = 22  # EINVAL


class LocalProtocolError(ProtocolError):
    """We (the caller of this library) asked for something the protocol forbids."""


class EncodeError(LocalProtocolError, ValueError):
    """A value cannot be encoded (out of range, too long, wrong type)."""


class NonceExhausted(LocalProtocolError):
    """The secure-mode nonce counter would repeat; the connection must re-key."""

    error_code = 75  # EOVERFLOW


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that violate the protocol."""


class DecodeError(RemoteProtocolError):
    """Malformed encoding: truncated input, impossible count or length, bad value."""

    error_code = 5  # EIO, as buffer::malformed_input surfaces in Ceph


class IncompatibleEncoding(DecodeError):
    """A versioned struct's compat_v is newer than the version this decoder knows."""


class CephxDecryptError(DecodeError):
    """cephx AES-128-CBC data did not decrypt: wrong length, bad padding or bad
    AUTH_ENC_MAGIC (almost always: the wrong key)."""

    error_code = 13  # EACCES


class FrameError(RemoteProtocolError):
    """msgr2 frame layer error."""


class BadPreambleCrc(FrameError):
    """The preamble crc does not match its 28 bytes."""


class BadSegmentCrc(FrameError):
    """A segment crc (rev1 inline crc or epilogue crc) does not match."""


class BadFrameStructure(FrameError):
    """num_segments out of range, empty last segment, bad late status, bad flags."""


class FrameTooLarge(FrameError):
    """A segment length exceeds the configured cap (checked before allocating)."""

    error_code = 90  # EMSGSIZE


class DecryptError(FrameError):
    """A secure-mode GCM tag did not verify."""

    error_code = 74  # EBADMSG


class UnknownTag(FrameError):
    """A frame or item tag that is not defined (or not allowed here)."""


class MessageError(RemoteProtocolError):
    """Message layer error."""


class BadMessageCrc(MessageError):
    """A msgr v1 header or footer crc does not match."""


class BadSignature(MessageError):
    """A msgr v1 message's cephx signature does not match (tampered or wrong key)."""


class MessageAborted(MessageError):
    """A msgr v1 message's footer lacks ``CEPH_MSG_FOOTER_COMPLETE``: the sender
    aborted it (Ceph's ``handle_message_footer`` faults)."""


class UnknownMessageType(MessageError):
    """No class is registered for the message type; the raw parts are kept.

    The caller can count and skip such a message: the header and the three
    payload buffers are available as attributes.
    """

    def __init__(
        self,
        header: MsgHeader,
        front: bytes | bytearray | memoryview,
        middle: bytes | bytearray | memoryview,
        data: bytes | bytearray | memoryview,
    ) -> None:
        super().__init__(f"unknown message type {header.type} (0x{header.type:x})")
        self.header = header
        self.front = front
        self.middle = middle
        self.data = data


class MessageDecodeError(MessageError):
    """A registered message class could not decode its payload."""


class HandshakeError(RemoteProtocolError):
    """Connection establishment failed because of the peer."""


class BannerMismatch(HandshakeError):
    """The peer's banner is not the protocol expected on this connection."""


class MissingFeatures(HandshakeError):
    """The peer requires features (or lacks required ones)."""

    error_code = 95  # EOPNOTSUPP

    def __init__(self, message: str, missing: int) -> None:
        super().__init__(message)
        self.missing = missing


class WrongPeer(HandshakeError):
    """The peer is not who was dialled: the server identifies as another address
    (v1 banner, msgr2 SERVER_IDENT), or the client dialled an address that is not
    ours (msgr2 CLIENT_IDENT target_addr)."""


class ConnectRefused(HandshakeError):
    """msgr v1: the server answered the connect message with an error tag
    (BADPROTOVER, FEATURES, BADAUTHORIZER); ``tag`` is the reply tag."""

    def __init__(self, message: str, tag: int) -> None:
        super().__init__(message)
        self.tag = tag


class AuthFailed(HandshakeError):
    """Authentication failed; ``result`` is the negative errno Ceph would report."""

    error_code = 13  # EACCES

    def __init__(self, message: str, result: int = -13) -> None:
        super().__init__(message)
        self.result = result


class ConnectionClosed(AsyncmsgrError):
    """The operation needs a connection that we closed (mark_down, shutdown)."""


class ConnectionBroken(AsyncmsgrError):
    """The peer or the network broke the connection; the cause is chained."""


class WouldBlock(AsyncmsgrError):
    """A ``*_nowait`` operation could not complete without waiting."""


class KeyringError(AsyncmsgrError, ValueError):
    """A keyring or key is unusable (missing file, bad base64, no key for an entity);
    the message is meant for the person who wrote the keyring."""


__all__ = [
    "AsyncmsgrError",
    "AuthFailed",
    "BadFrameStructure",
    "BadMessageCrc",
    "BadPreambleCrc",
    "BadSegmentCrc",
    "BadSignature",
    "BannerMismatch",
    "CephxDecryptError",
    "ConnectRefused",
    "ConnectionBroken",
    "ConnectionClosed",
    "DecodeError",
    "DecryptError",
    "EncodeError",
    "FrameError",
    "FrameTooLarge",
    "HandshakeError",
    "IncompatibleEncoding",
    "KeyringError",
    "LocalProtocolError",
    "MessageAborted",
    "MessageDecodeError",
    "MessageError",
    "MissingFeatures",
    "NonceExhausted",
    "ProtocolError",
    "RemoteProtocolError",
    "UnknownMessageType",
    "UnknownTag",
    "WouldBlock",
    "WrongPeer",
]

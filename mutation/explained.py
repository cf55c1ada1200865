"""Survivors judged equivalent (no test can tell them from the original), each
with the reason. ``run.py --report`` files every survivor of a campaign under
the first pattern here that matches its name (``re.fullmatch``); the others are
listed as not explained in ``mutation/survivors.md``.

Keep the patterns narrow (one function, exact mutant numbers): mutant numbers
are stable while a function's source does not change; when it changes, mutmut
tests its mutants again and a stale entry here simply matches nothing.
"""

from __future__ import annotations

_V2 = r"asyncmsgr\.protocol\.v2_handshake\."
_V1 = r"asyncmsgr\.protocol\.v1_handshake\."

_MSG = r"asyncmsgr\.message\."
_CRC = r"asyncmsgr\.wire\.crc32c\."
_GCM = r"asyncmsgr\.crypto\.onwire\."
_BASE = r"asyncmsgr\.protocol\.base\."
_P2 = r"asyncmsgr\.protocol\.v2\."
_RXB = r"asyncmsgr\.protocol\.rxbuffer\."
_AU = r"asyncmsgr\.auth\."
_CX = r"asyncmsgr\.auth\.cephx\."
_PV1 = r"asyncmsgr\.protocol\.v1\.xǁProtocolV1ǁ"

#: (pattern, reason): the reason is shown once per group in survivors.md
EXPLAINED: tuple[tuple[str, str], ...] = (
    (_GCM + r"xǁ_NonceCounterǁ__init____mutmut_19",
     "drops unpack_from's offset argument 0, which is its default"),
    (_CRC + r"(x__load_extension__mutmut_(5|18|31|34|35|36|37|38|39)"
     r"|x__std_function__mutmut_[1-6])",
     "changes which of the two loading paths (the extension file directly, or the "
     "crc32c package) provides the C function, or only the sys.modules bookkeeping: "
     "the same function is used either way (start-up cost only)"),
    (_CRC + r"xǁStdCrc32cǁ__call____mutmut_1",
     "the signature of a typing.Protocol: never called"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁ_disasm_secure_rev1__mutmut_(1|27|28)",
     "chooses decrypt_in_place or decrypt for the same bytes: with the installed "
     "cryptography 51 (IN_PLACE False) both decrypt into a new buffer"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁ_disasm_secure_rev1__mutmut_6",
     "pos None for 0 where it is only used as mv[pos:], which is the same slice"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameReaderǁ__init____mutmut_(4|5)",
     "the initial _pre_len is never read: it is set when the preamble is read"),
    (r"asyncmsgr\.frames\.v1\.(x_decode_legacy_addr__mutmut_(4|7)"
     r"|x_decode_server_hello__mutmut_(7|10))",
     "drops the reader's end bound: the pulls after it read exactly the bounded bytes"),
    (r"asyncmsgr\.frames\.v1\.xǁV1ItemReaderǁ_msg__mutmut_13",
     "one byte more in the header view: MsgHeader.decode reads its first 53 bytes only"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁassemble_message__mutmut_"
     r"(12|13|16|17|20|21|36|37|91|92)",
     "sends more frames down the general path than needed, or misses/skips the "
     "preamble cache: the fast path and the general path write the same bytes "
     "(tests/unit/test_assembler_fastpaths.py), the cache holds only what it recomputes"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁdisassemble_message__mutmut_"
     r"(1|6|10|13|24|59)",
     "in_place (cryptography 51: decrypting into a new buffer either way), the general "
     "path for MESSAGE frames (same checks, same views; the method is only called for "
     "MESSAGE frames), memoryview() of a memoryview, or unpack_from's default offset 0"),
    (r"asyncmsgr\.frames\.v1\.(x_decode_seq__mutmut_10|xǁConnectMsgǁdecode__mutmut_7"
     r"|xǁConnectReplyǁdecode__mutmut_7)",
     "drops unpack_from's offset argument 0, which is its default"),
    (r"asyncmsgr\.frames\.v2\.x_frame_spec__mutmut_12",
     "drops the alignments argument, whose default is the same (DEFAULT_ALIGNMENT,)"),
    (r"asyncmsgr\.frames\.(assembler\.(xǁFrameAssemblerǁ_disasm_crc_rev1__mutmut_16"
     r"|xǁFrameAssemblerǁ_parse_preamble__mutmut_5)|v2\.x_decode_banner_payload__mutmut_9)",
     "drops unpack_from's offset argument 0, which is its default"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁdisassemble_preamble__mutmut_(6|7|15|16)",
     "misses or skips the preamble cache, which only holds what _parse_preamble "
     "computes again"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁ_preamble__mutmut_(5|10)",
     "pads the length/alignment lists with more zeros: only their first four are packed"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁdisassemble_segments__mutmut_"
     r"(1|3|22|26|27|28)",
     "in_place variations (cryptography 51: decrypting into a new buffer either way) or "
     "memoryview() of a memoryview"),
    (r"asyncmsgr\.frames\.assembler\.x__last_nonempty__mutmut_10",
     "the loop also visits index -1 (the last segment again) when every segment is "
     "empty, and still returns 1"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁ_crc_rev1__mutmut_24",
     "the initial crc of segment 1 is always overwritten: this code runs only for "
     "n > 1, and the loop's first pass (i = 1) sets crcs[0]"),
    (r"asyncmsgr\.frames\.assembler\.xǁFrameAssemblerǁ_crc_rev0__mutmut_3",
     "the initial crc of slot 0 is always overwritten: a frame has at least 1 segment"),
    (r"asyncmsgr\.wire\.codecs\.(x__pull_legacy_after_marker__mutmut_10"
     r"|x__sockaddr_from_data__mutmut_(16|35))",
     "drops unpack_from's offset argument 0, which is its default"),
    (r"asyncmsgr\.wire\.codecs\.x__sockaddr_from_data__mutmut_(8|9|28|43)",
     "pads (or slices) sa_data to another length that still covers every field read "
     "(port and address at most 6 bytes in, sin6 fields at most 26; a longer sockaddr "
     "was refused before)"),
    (r"asyncmsgr\.wire\.codecs\.x__sockaddr_data__mutmut_23",
     "changes sin6_scope_id in the packed sockaddr_in6, which [:22] cuts off (the "
     "scope is appended separately)"),
    (r"asyncmsgr\.wire\.codecs\.x_push_legacy_addr__mutmut_12",
     "for other families _sockaddr_data is all zeros, as the padding of b'' is"),
    (r"asyncmsgr\.wire\.buffer\.x_as_view__mutmut_(1|2|4|8)",
     "as_view's first branch is a fast path: memoryview() of bytes, of a bytearray or "
     "of a flat unsigned memoryview gives an equal view either way"),
    (r"asyncmsgr\.wire\.buffer\.(xǁWriterǁpush_string__mutmut_7|xǁReaderǁpull_string__mutmut_7)",
     "'UTF-8' for 'utf-8': Python's codec names are case-insensitive"),
    (_MSG + r"x__view__mutmut_(1|2|4|7)",
     "_view's first branch is a fast path: for bytes and bytearray as_view returns the "
     "same memoryview, and memoryview(b'') equals _EMPTY_VIEW"),
    (_MSG + r"x_decode_message__mutmut_(12|13|14)",
     "decode_message's own MESSAGE_TYPES lookup is a fast path: message_class looks the "
     "type up in MESSAGE_TYPES first itself, so skipping that lookup (or always taking "
     "message_class) gives the same class"),
    (_MSG + r"(x_check_footer_crcs__mutmut_(4|15|30)|xǁMessageǁv1_footer__mutmut_(7|16|26))",
     "computes the crc of an empty segment instead of taking 0: ceph_crc32c(0, b'') is 0"),
    (_MSG + r"(xǁMsgFooterǁdecode__mutmut_(11|28)|xǁMsgHeader2ǁdecode__mutmut_7"
     r"|xǁMsgHeaderǁdecode__mutmut_8)",
     "drops unpack_from's offset argument 0, which is its default"),
    (r"asyncmsgr\.protocol\.common\.xǁ(ThrottleLike|ConnectionRegistry)ǁ.*",
     "a method of a typing.Protocol class: its body (and default) is never run; the "
     "implementations (Throttle, the messenger's registry) are mutated where they live"),
    (r"asyncmsgr\.protocol\.races\.x_decide_reconnect__mutmut_22",
     "drops full=False from ReconnectVerdict(RESET, ...): False is the field's default"),
    (_V2 + r"(x_handle_auth_bad_method__mutmut_(20|22)"
     r"|x_handle_ident_missing_features__mutmut_2)",
     "changes the result/missing attribute of the error a handshake step raises; "
     "ProtocolBase._process catches it and keeps only its type name and message"),
    (_V2 + r"(x_handle_reconnect__mutmut_9|x_handle_client_ident__mutmut_37)",
     "lookup_existing(None, ...) instead of (owner, ...): the accepting connection is "
     "registered only when it answers, so excluding it from the lookup changes nothing"),
    (_V2 + r"(x_handle_auth_signature__mutmut_(4|6|9|10)|x_handle_auth_done__mutmut_(4|6|8|9)"
     r"|x_handle_auth_request__mutmut_(4|6|9|10)|x__send_auth_request__mutmut_(3|5|8|9))",
     "changes the result attribute of the error a handshake step raises; "
     "ProtocolBase._process keeps only its type name and message"),
    (_V2 + r"x__check_peer_banner__mutmut_[2-9]",
     "the 'peer lacks required msgr2 features' branch: we require none "
     "(CEPH_MSGR2_REQUIRED_FEATURES is 0, as in Pacific), so it never runs"),
    (_V2 + r"x__queue_after__mutmut_1",
     "the default time is used only by callers that do not go ready afterwards, "
     "and queueing a frame does not read it"),
    (_V2 + r"(x_handle_auth_done__mutmut_23|x_handle_auth_request__mutmut_29)",
     "None for a flag (crossed, more) takes the same branch as False"),
    (_V1 + r"x__verify_authorizer__mutmut_(7|8|9|10|11|12|13|14)",
     "the AuthFailed raised when there is no auth server is caught in the same function, "
     "logged and answered BADAUTHORIZER: its message and result reach only the log line"),
    (_V1 + r"(x__handle_connect_reply__mutmut_(25|64|71|79)|x__read_server_hello__mutmut_25"
     r"|x__send_connect_msg__mutmut_48|x_connection_made__mutmut_6"
     r"|x_start_accept__mutmut_15)",
     "passes None for the time to a step whose continuation ignores it (the connect "
     "message and the banners are queued without a timestamp; a held step is "
     "released with the releaser's own time)"),
    (_V1 + r"x__act__mutmut_11",
     "'OPEN and existing is None' for 'or': OPEN comes only without an existing "
     "connection (a CLOSED one is dropped before deciding), and every other action "
     "needs one"),
    (_V1 + r"(x__open__mutmut_78|x_take_over__mutmut_16)",
     "sets a state that the next call overwrites before anything reads it (ready() / "
     "the reply's ACCEPTING_WAIT_CONNECT_MSG)"),
    (_V1 + r"x_take_over__mutmut_(19|20|21|22|28|29|30)",
     "a field of the ConnectMsg built only to answer RETRY_GLOBAL: _reply reads its "
     "features and nothing else"),
    (_V1 + r"x__handle_connect_msg__mutmut_57",
     "stop_connection(queue_reset=None): None takes the same branch as False"),
    (_V1 + r"(x__open__mutmut_39|x__handle_connect_msg__mutmut_19)",
     "proto_version(..., connect=None): None takes the same branch as False"),
    (_V1 + r"x__send_client_banner__mutmut_1",
     "_is_server None for False: only repr() reads it, and both are false"),
    (_V1 + r"x__read_connect_msg_auth__mutmut_3",
     "the authorizer state is entered only with the connect message held, so the "
     "'no connect message' early return never runs"),
    (_V1 + r"(x__verify_authorizer_reply__mutmut_(9|11|16|17)"
     r"|x__handle_connect_reply__mutmut_(9|11|14|15|33|47|52|54|58|59|96))",
     "changes the result attribute of the error a handshake step raises; "
     "ProtocolBase._process keeps only its type name and message"),
    (_V1 + r"x__check_partial_banner__mutmut_7",
     "'n >= 7 or' for 'and': below 7 bytes every prefix of 'ceph v2' is also a prefix "
     "of 'ceph v027' and returned earlier, so the length test never decides"),
    (_V1 + r"x__reply__mutmut_22",
     "proto_version(..., connect=None): None takes the same branch as False"),
    (_V2 + r"x__reuse__mutmut_(3|4)",
     "the temporary connection gets a fresh FrameAssembler and is stopped on the next "
     "line; a stopped machine is never fed bytes again, so its assembler is never used"),
    # -- protocol-core: base/v2/rxbuffer ------------------------------------------------
    (_BASE + r"(xǁCountersǁinc__mutmut_1|xǁ_NoCountersǁinc__mutmut_1)",
     "the default count of Counters.inc (a typing.Protocol method, never run) or of "
     "_NoCounters.inc, whose body ignores it"),
    (_BASE + r"xǁProtocolBaseǁ_rx_wanted__mutmut_1",
     "the base hook's default: ProtocolV1 and ProtocolV2 both override _rx_wanted"),
    (_BASE + r"xǁProtocolBaseǁ__init____mutmut_(50|55|56)",
     "initial values nothing reads: _is_server None for False is only tested for "
     "truth; _msg_size is set from each message's preamble before the throttles "
     "read it"),
    (_BASE + r"(xǁProtocolBaseǁrelease__mutmut_4|xǁProtocolBaseǁ_unhold__mutmut_2"
     r"|xǁProtocolBaseǁ__init____mutmut_73)",
     "_resume is read only in release() while held_step is set, and every place "
     "that sets held_step (_intercept's PAUSE) sets _resume with it"),
    (_BASE + r"xǁProtocolBaseǁhandle_timer__mutmut_12",
     "the ready deadline cleared before fault(): every path of fault() from a "
     "non-CLOSED/NONE state sets _ready_deadline again (None on stop/standby, the "
     "next attempt's deadline on reconnect), and the deadline is only set in states "
     "other than CLOSED and NONE"),
    (_BASE + r"xǁProtocolBaseǁget_timer__mutmut_(8|16)",
     "'<=' for '<' between two deadlines: when they are equal either one is the "
     "same earliest time"),
    (_P2 + r"xǁProtocolV2ǁ_decode_message__mutmut_(3|4|5)",
     "the front/middle/data lengths of the rebuilt ceph_msg_header: decode_message "
     "takes the segments themselves and no message class reads header.*_len"),
    (_P2 + r"(xǁProtocolV2ǁconnection_made__mutmut_7|xǁProtocolV2ǁstart_accept__mutmut_14)",
     "passes None for the time to _start_client_banner / _start_server_banner, "
     "which do not read it"),
    (_P2 + r"xǁProtocolV2ǁ_handle_message_frame__mutmut_(4|7|8)",
     "in_place for the MESSAGE body: crc mode parses views either way, and secure "
     "mode decrypts into a new buffer either way with the installed cryptography 51 "
     "(IN_PLACE False; see the frames campaign)"),
    (_P2 + r"xǁProtocolV2ǁ_read_messages__mutmut_3",
     "drops the receiving_big and _transcript_on guards, which are always False here: "
     "_read_messages runs only in READY with no preamble pending (a large body keeps "
     "its preamble pending until taken), and the transcript is switched off by "
     "_own_signature before the session (take_over and _reset_stream switch it off too)"),
    (_P2 + r"xǁProtocolV2ǁ_read_messages__mutmut_(26|39|59)",
     "where the fast loop hands over to _step: with exactly a preamble's bytes left "
     "the body is missing and the loop breaks anyway (a bad preamble raises the same "
     "error in _step); 'return' for 'break' at a frame the loop does not take, and "
     "'break' for 'continue' after an aborted frame, leave the same bytes for _step, "
     "which takes them in the same call or the next _read_messages does"),
    (_P2 + r"xǁProtocolV2ǁ_step__mutmut_(14|15|16)",
     "the 'more to do' result after the fast loop: with fewer bytes than a preamble "
     "(0 or 1 included) and no preamble pending the next _step returns False without "
     "changing anything"),
    (_P2 + r"xǁProtocolV2ǁ_step__mutmut_45",
     "True for False when a throttle is full: the failed take set _throttle_retry_at, "
     "so the next _step returns False at its top without changing anything"),
    (_P2 + r"xǁProtocolV2ǁ_step__mutmut_60",
     "owned None for False: it is only tested for truth (here and in "
     "_handle_message_frame)"),
    (_P2 + r"xǁProtocolV2ǁ_init_stream__mutmut_([1-5]|8|11|12|13)",
     "initial stream fields that connection_made/start_accept (_reset_for_new_socket) "
     "or take_over set before anything reads them (a paused START_ACCEPT reads only "
     "_pre, _banner_len and the transcripts: _banner_len None reads as 0, and "
     "_banner_done only matters when _banner_len is set); _pre_raw is written before "
     "each read, _sent_modes by AUTH_REQUEST before AUTH_DONE is allowed"),
    (_P2 + r"xǁProtocolV2ǁ_read_banner__mutmut_23",
     "_banner_len None for 0 once the banner is done: only tested for truth, and "
     "only while the banner is not done (_reset_stream and take_over set 0 first)"),
    (_P2 + r"xǁProtocolV2ǁ_reset_for_new_socket__mutmut_3",
     "_banner_done None for False: only tested for truth"),
    (_BASE + r"xǁProtocolBaseǁreceive_data__mutmut_(1[2-9])",
     "the guard against a full large-body buffer nobody takes (feed() returning 0): "
     "both machines take a complete large body in the same _step loop that completes "
     "it (throttles are taken before start_big, interceptor pauses come after "
     "take_big, and a held or throttled machine reads no preamble), so the guard "
     "never fires and its condition and text cannot be observed"),
    (_P2 + r"xǁProtocolV2ǁ_rx_wanted__mutmut_(11|13|19)",
     "max(1, ...) only differs when the rest is <= 0, i.e. the item is complete, and "
     "a complete item is always processed before pre_auth_bytes is read; "
     "'not done or banner_len' adds the case banner_len == 0, which returns "
     "max(0, -available) = 0 like the fall-through"),
    (_P2 + r"xǁProtocolV2ǁ_reset_stream__mutmut_[1-46-9]",
     "stream fields reset on a fault or stop: a faulted machine is CLOSED, STANDBY or "
     "START_CONNECT (idle states: _step reads nothing, data_to_send writes nothing) "
     "until connection_made/start_accept (_reset_for_new_socket) or take_over set "
     "_pre, _banner_done, _asm and _transcript_on again; _banner_len None reads as 0 "
     "(it is only tested for truth before use)"),
    (_P2 + r"(xǁProtocolV2ǁ_own_signature__mutmut_(12|13)"
     r"|xǁProtocolV2ǁ_verify_signature__mutmut_12)",
     "the transcripts after signing: _transcript_on is False from then on (so nothing "
     "is appended) and pre_auth_bytes reads them only in unauthenticated accepting "
     "states, which a server has left when it signs; a new socket makes new ones "
     "(None for False in _transcript_on is only tested for truth)"),
    (_P2 + r"xǁProtocolV2ǁ_start_client_banner__mutmut_1",
     "_is_server None for False: it is only tested for truth (repr, pre_auth_bytes)"),
    (_P2 + r"xǁProtocolV2ǁ_handle_control_frame__mutmut_1",
     "'or' for 'and': when a control frame is handled, _transcript_on is True exactly "
     "in the pre-auth states (on from the banner, off in the same handler that leaves "
     "AUTH_CONNECTING / AUTH_ACCEPTING(_MORE) for a *_SIGN state)"),
    (_RXB + r"xǁRxBufferǁdetach__mutmut_6",
     "a new empty bytearray instead of the shared empty one: the same empty storage "
     "(capacity 0, grown on next use)"),
    (_RXB + r"(xǁRxBufferǁtake_big__mutmut_(4|6)|xǁRxBufferǁ__init____mutmut_(17|19)"
     r"|xǁRxBufferǁreset__mutmut_(9|11))",
     "the large-body view when there is no large body: it is only read while one "
     "is being received, and start_big sets a new one first"),
    (_RXB + r"xǁRxBufferǁ_grow__mutmut_(23|24)",
     "_grow asked for no more than the current own buffer (only get_buffer at or "
     "above the max does that, and it doubles right after): the mutants copy into a "
     "buffer of the same bytes first (a shorter bytearray is extended by the slice "
     "assignment); contents and the capacity after the doubling are the same"),
    (_RXB + r"xǁRxBufferǁbuffer_updated__mutmut_9",
     "'<=' for '<' against the max: at the max, _grow(min(2 * len, max)) asks for "
     "the current size and returns at once"),
    # -- auth ----------------------------------------------------------------------------
    (_CX + r"crypto\.x_challenge_key__mutmut_19",
     "range(0, len-8, 8) for range(0, len-7, 8): the blob is always 36 bytes (u32 length "
     "+ the 32-byte ciphertext of a 25-byte plaintext), and both ranges give 0, 8, 16, 24"),
    (_CX + r"crypto\.x_encode_encrypt__mutmut_12",
     "'<i' for '<I' in the length prefix: the same bytes for every length below 2**31, "
     "and a cephx ciphertext is a few hundred bytes (decoders cap them at 1 MiB)"),
    (_CX + r"sign\.x_signature_of__mutmut_24",
     "drops unpack_from's offset argument 0, which is its default"),
    (_AU + r"keyring\.(xǁKeyringǁfrom_file__mutmut_6|xǁCryptoKeyǁto_base64__mutmut_4)",
     "'UTF-8'/'ASCII' for 'utf-8'/'ascii': Python's codec names are case-insensitive"),
    (_AU + r"keyring\.x__strip_comment__mutmut_(2|5)",
     "None for '' as the 'no open quote' marker: it is only tested for truth"),
    (_AU + r"keyring\.xǁKeyringǁfrom_text__mutmut_(5|6)",
     "the initial key/caps are never read: finish() returns at once while no section "
     "is open, a line before the first section is refused, and every [section] header "
     "resets both"),
    (_CX + r"keyserver\.xǁKeyServerǁadd_entity__mutmut_(3|7)",
     "the name stored inside the KeyringEntry (None, or the str given): KeyServer finds "
     "entries by their str(name) key and never reads KeyringEntry.name"),
    (_CX + r"server\.xǁCephxAuthServerǁhandle_auth_request__mutmut_27",
     "payload[:2] for payload[:1] as an emptiness test: both are empty exactly when the "
     "payload is"),
    (_CX + r"server\.xǁCephxAuthServerǁ_mon_finish__mutmut_(16|25)",
     "in the msgr2 exchange handle_request returns a session key exactly when its status "
     "is 0 (the keyless success, GET_PRINCIPAL_SESSION_KEY, needs an authenticated "
     "session, and _mon_finish drops the session once authenticated), so 'and' decides "
     "as 'or' does and 'status or -EPERM' always has a negative status"),
    (_CX + r"server\.xǁCephxAuthServerǁ_get_auth_session_key__mutmut_98",
     "rng.randbytes(0) for b'' when secret_len is 0: randbytes(0) is b'' and draws no "
     "randomness (random.Random and SystemRandom alike)"),
    (_CX + r"server\.xǁCephxAuthServerǁverify_authorizer__mutmut_27",
     "drops the explicit -EACCES of the expiry refusal: _deny's default result is -EACCES"),
    (_CX + r"server\.xǁCephxAuthServerǁhandle_mauth__mutmut_9",
     "min item size 1 for 4 in the method list: a count the bytes cannot hold then "
     "fails at the first missing u32 instead of up front, with the same -EINVAL answer; "
     "items are read one by one, so nothing is allocated for the claimed count"),
    (_AU + r"none\.xǁAuthNoneClientǁ(get_auth_request__mutmut_(12|13|14)"
     r"|__init____mutmut_(2|7|9))",
     "which mode option AuthNoneClient reads (my_type, peer_type, i_am_client, modes): "
     "its preferred modes are 'the crc of that list, or crc', which is always (CRC,)"),
    (_CX + r"client\.(xǁCephxClientǁ__init____mutmut_23"
     r"|xǁCephxClientǁhandle_v1_reply__mutmut_24)",
     "None for False in _v1_started: it is only tested for truth"),
    (_CX + r"client\.xǁCephxClientǁbuild_ticket_request__mutmut_(10|14)",
     "auth_invalid (None/True for False) only adds AUTH to other_keys, and this branch "
     "runs only when AUTH is needed already"),
    (_CX + r"client\.xǁCephxClientǁ_session_reply__mutmut_28",
     "'' for None as 'no connection secret': handle_auth_done refuses both in secure mode "
     "with the same '(0 bytes)' message, and ignores the secret in crc mode"),
    (_CX + r"client\.xǁ_MonRoundǁ__init____mutmut_(1|2)",
     "_MonRound is only constructed as _MonRound(): both arguments are None either way"),
    (_CX + r"(client\.xǁCephxClientǁhandle_auth_done__mutmut_53"
     r"|server\.xǁCephxAuthServerǁ(_authorizer_step__mutmut_56|_mon_finish__mutmut_32))",
     "method_state.pop(key) without the None default: the key is always there, as the "
     "state was just read from it (_state() / the caller's isinstance check)"),
    (_CX + r"(server\.xǁCephxAuthServerǁ(_get_auth_session_key__mutmut_82"
     r"|_get_principal_session_key__mutmut_26)|keyserver\.xǁKeyServerǁservice_caps__mutmut_12)",
     "drops an argument equal to its default (CephXResponseHeader status 0, "
     "AuthCapsInfo allow_all False)"),
    (_AU + r"(cephx\.server\.xǁCephxAuthServerǁ_allowed_modes__mutmut_3"
     r"|none\.xǁAuthNoneServerǁpick_con_mode__mutmut_4)",
     "i_am_client=None for False: ModeOptions.modes_for only tests it for truth"),
    (_AU + r"none\.xǁAuthNoneClientǁget_auth_request__mutmut_6",
     "drops the explicit -13 of the refusal: AuthFailed's default result is -13 (EACCES)"),
    # -- protocol-core: v1.py (ProtocolV1's receive loop and send path) ---------------
    (_PV1 + r"(_handle_message__mutmut_(29|33|37)|_handle_message__mutmut_(44|55|70)"
     r"|_write_messages__mutmut_(57|66))",
     "copies or checksums an empty part instead of taking the constant: bytes() of an "
     "empty view is b'' (== _EMPTY) and ceph_crc32c(0, b'') is 0"),
    (_PV1 + r"_handle_message__mutmut_(11|12)",
     "sig of an old footer (None or 1 for 0): sig is read only when sign_key is set, and "
     "_on_ready sets a key only with CEPH_FEATURE_MSG_AUTH, the old footer only without it"),
    (_PV1 + r"_init_stream__mutmut_(1|2|5|6|7)",
     "an initial value overwritten before anything reads it: _hdr and hs by "
     "_reset_stream (from _new_socket, before the first banner; a server held before its "
     "banner announces nothing, _rx_wanted returns first), _old_footer and _footer_len "
     "by _on_ready (ready(), before the OPEN states that read them)"),
    (_PV1 + r"(_read_open__mutmut_(72|82)|_read_control_item__mutmut_46)",
     "'return True' where the step cannot progress: _process calls _step again, which "
     "returns False at once (a throttle wait set _throttle_retry_at; CLOSE made the state "
     "CLOSED, an idle state)"),
    (_PV1 + r"_read_open__mutmut_106",
     "owned None for False: only its truth is tested (here and in _handle_message)"),
    (_PV1 + r"_read_open__mutmut_11",
     "peek(2) for peek(1) with one byte buffered: only [0] is read, the same byte"),
    (_PV1 + r"_rx_wanted__mutmut_4",
     "'or connect is not None': hs.connect is set only together with the state "
     "ACCEPTING_WAIT_CONNECT_MSG_AUTH (_read_connect_msg) and cleared before it is left "
     "(_reply, the READY/SEQ finish; a fault resets hs); a held step returns first"),
    (_PV1 + r"_rx_wanted__mutmut_(11|18)",
     "max(1, ...) for max(0, ...): not held, an item is consumed in the step where its "
     "last byte arrives, so when pre_auth_bytes asks, fewer bytes than the item are "
     "buffered and the difference is at least 1"),
    (_PV1 + r"_step__mutmut_(13|19)",
     "the 'no reader' branch: the v1 states without a reader (ACCEPTING, CONNECTING, "
     "CONNECTING_SEND_CONNECT_MSG, *_READY) are entered and left within one call, or "
     "held by an interceptor PAUSE (held_step: _step returns first); checked by running "
     "tests/protocol, tests/unit and tests/aio with that branch raising"),
    (_PV1 + r"randomize_out_seq__mutmut_7",
     "randrange(n) for randrange(0, n): the same call"),
)
"""Patterns and their reasons."""

#: Survivors that are *not* equivalent and not killed yet: why no test reaches them.
NOT_KILLED: tuple[tuple[str, str], ...] = (
)

#: Mutants of these shapes change nothing but text that only a log line shows.
LOG_ONLY = (
    r".*logger\.(debug|info|warning|error|exception)\(.*",
)

__all__ = ["EXPLAINED", "LOG_ONLY", "NOT_KILLED"]

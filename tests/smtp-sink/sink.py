#!/usr/bin/env python3
"""A real SMTP server for the notification tests (siseri-notify), built on aiosmtpd.

Accepts every message and writes it, before answering 250, as one JSON file in --dir:
envelope (mail_from, rcpt_tos), whether the session was encrypted and authenticated, the
decoded headers and plain-text body, and the raw message. Prints "PORT <n>" on stdout once
it listens (--port 0 picks a free port), and exits when its standard input closes (the test
that started it ended, however it ended) or on SIGTERM.

Options: --user/--password require AUTH (PLAIN or LOGIN) with those credentials;
--tls-cert/--tls-key offer STARTTLS, and --require-starttls refuses mail without it.

Needs aiosmtpd (scripts/test.sh installs it: pip install aiosmtpd==1.4.6).
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import threading
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": session.ssl is not None,
            "auth_user": (
                session.auth_data.login.decode("utf-8")
                if isinstance(session.auth_data, LoginPassword)
                else None
            ),
            "headers": {
                name: str(msg[name]) if msg[name] is not None else None
                for name in (
                    "From",
                    "To",
                    "Subject",
                    "Message-ID",
                    "Date",
                    "Content-Type",
                    "Auto-Submitted",
                )
            },
            "body": body.get_content() if body is not None else None,
            "raw": raw.decode("utf-8", errors="replace"),
        }
        name = f"{next(self.counter):06d}-{os.getpid()}.json"
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--require-starttls", action="store_true")
    args = parser.parse_args()
    # aiosmtpd warns about AUTH without TLS, which a loopback test may want.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    os.makedirs(args.dir, exist_ok=True)

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode("utf-8") == args.user
            and auth_data.password.decode("utf-8") == args.password
        )
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=False, handled=False)

    handler = Sink(args.dir)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(
            handler,
            hostname="smtp-sink.test",
            tls_context=tls_context,
            require_starttls=args.require_starttls,
            authenticator=authenticator if args.user else None,
            auth_required=bool(args.user),
            # Without STARTTLS, credentials go in clear: a test on the loopback only.
            auth_require_tls=tls_context is not None,
            loop=loop,
        )

    server = loop.run_until_complete(
        loop.create_server(factory, host=args.host, port=args.port, reuse_address=True)
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    def stop(*_):
        loop.call_soon_threadsafe(loop.stop)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    main()

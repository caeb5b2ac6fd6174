#!/usr/bin/env python3
"""Real servers on 127.0.0.1 for the archive tests, one per process.

    servers.py https  DIR CERT KEY PORTFILE         files of DIR over TLS; /cut/NAME
                                                    announces more bytes than it sends;
                                                    a POST is kept as DIR/posts/N.json
                                                    and answered with the status in
                                                    DIR/answer (default 200)
    servers.py webdav DIR USER PASSWORD PORTFILE    WebDAV (wsgidav), basic auth
    servers.py ftps   DIR CERT KEY USER PASSWORD PORTFILE
                                                    explicit FTPS (pyftpdlib), TLS on
                                                    control and data, passive mode
    servers.py smtp   OUTDIR CERT KEY USER PASSWORD PORTFILE
                                                    SMTP with STARTTLS required and
                                                    AUTH; each message to OUTDIR/N.eml
    servers.py smtps  OUTDIR CERT KEY USER PASSWORD PORTFILE
                                                    the same over implicit TLS

Each writes the port it listens on to PORTFILE once it listens. Loopback only.
"""
import os
import socket
import ssl
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def announce(portfile, port):
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, portfile)


def https(root, cert, key, portfile):
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0].lstrip("/")
            cut = path.startswith("cut/")
            if cut:
                path = path[4:]
            full = os.path.join(root, path)
            if ".." in path or not os.path.isfile(full):
                body = b"not found\n"
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = open(full, "rb").read()
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if cut:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

        def do_POST(self):
            import json

            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            posts = os.path.join(root, "posts")
            os.makedirs(posts, exist_ok=True)
            kept = {"path": self.path, "authorization": self.headers.get("Authorization"),
                    "content_type": self.headers.get("Content-Type"), "body": body.decode()}
            tmp = os.path.join(posts, ".tmp")
            with open(tmp, "w") as f:
                json.dump(kept, f)
            n = len([name for name in os.listdir(posts) if name.endswith(".json")])
            os.rename(tmp, os.path.join(posts, "%d.json" % n))
            try:
                status = int(open(os.path.join(root, "answer")).read())
            except OSError:
                status = 200
            reply = b'{"ticket": 42}\n' if status < 300 else b"busy, try later\n"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    announce(portfile, server.server_address[1])
    server.serve_forever()


def webdav(root, user, password, portfile):
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    port = free_port()
    app = WsgiDAVApp(
        {
            "host": "127.0.0.1",
            "port": port,
            "provider_mapping": {"/dav": root},
            "http_authenticator": {"domain_controller": None, "accept_basic": True, "accept_digest": False, "default_to_digest": False},
            "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
            "verbose": 0,
            "logging": {"enable": False},
        }
    )
    server = wsgi.Server(("127.0.0.1", port), app)
    server.prepare()
    announce(portfile, port)
    server.serve()


def ftps(root, cert, key, user, password, portfile):
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import TLS_FTPHandler
    from pyftpdlib.servers import FTPServer

    combined = os.path.join(os.path.dirname(portfile), "ftps.pem")
    with open(combined, "w") as f:
        f.write(open(cert).read() + open(key).read())
    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, root, perm="elradfmwMT")
    handler = TLS_FTPHandler
    handler.certfile = combined
    handler.authorizer = authorizer
    handler.tls_control_required = True
    handler.tls_data_required = True
    base = free_port()
    handler.passive_ports = range(base, base + 1) if base > 60000 else range(base, base + 20)
    handler.masquerade_address = "127.0.0.1"
    server = FTPServer(("127.0.0.1", 0), handler)
    announce(portfile, server.address[1])
    server.serve_forever()


def smtps(outdir, cert, key, user, password, portfile):
    smtp(outdir, cert, key, user, password, portfile, implicit=True)


def smtp(outdir, cert, key, user, password, portfile, implicit=False):
    import logging

    # aiosmtpd sets its own deprecated Session.login_data on every AUTH, and says so.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Save:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Save.count += 1
            path = os.path.join(outdir, f"{Save.count}.eml")
            with open(path + ".tmp", "wb") as f:
                f.write(envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode())
            os.rename(path + ".tmp", path)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    port = free_port()
    if implicit:
        controller = Controller(
            Save(), hostname="127.0.0.1", port=port, ssl_context=ctx, authenticator=authenticator, auth_require_tls=False
        )
    else:
        controller = Controller(
            Save(),
            hostname="127.0.0.1",
            port=port,
            tls_context=ctx,
            require_starttls=True,
            authenticator=authenticator,
            auth_require_tls=True,
        )
    controller.start()
    announce(portfile, port)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"https": https, "webdav": webdav, "ftps": ftps, "smtp": smtp, "smtps": smtps}[mode](*args)

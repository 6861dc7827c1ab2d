#!/usr/bin/env python3
# Tandem — MIT licence. Local notification sinks for alarm_test.sh, on 127.0.0.1 (or the address given), port 0.
#   alarm_sinks.py webhook DIR   each POST body appended to DIR/webhook.jsonl (one line each)
#   alarm_sinks.py smtp DIR      each mail appended to DIR/smtp.jsonl as {"from","to","data"}
# The bound port is written to DIR/<mode>.port once listening.
import http.server
import json
import os
import socketserver
import sys


def append(path, obj):
    with open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")
        f.flush()
        os.fsync(f.fileno())


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        try:
            append(OUT, json.loads(body))
            self.send_response(200)
        except ValueError:
            self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class Smtp(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for libcurl: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, s):
        self.wfile.write((s + "\r\n").encode())

    def handle(self):
        self.reply("220 sink ESMTP")
        frm, to = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                frm, to = cmd[10:].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                to.append(cmd[8:].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = []
                while True:
                    l = self.rfile.readline()
                    if not l:
                        return
                    l = l.decode(errors="replace").rstrip("\r\n")
                    if l == ".":
                        break
                    data.append(l[1:] if l.startswith("..") else l)
                append(OUT, {"from": frm, "to": to, "data": "\n".join(data)})
                self.reply("250 OK queued")
            elif verb == "RSET":
                frm, to = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    mode, d = sys.argv[1], sys.argv[2]
    # The address to listen on: 127.0.0.1 unless a test's own namespace gives another.
    addr = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    OUT = os.path.join(d, mode + ".jsonl")
    open(OUT, "a").close()
    if mode == "webhook":
        srv = http.server.ThreadingHTTPServer((addr, 0), Hook)
    else:
        srv = Server((addr, 0), Smtp)
    with open(os.path.join(d, mode + ".port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(d, mode + ".port.tmp"), os.path.join(d, mode + ".port"))
    srv.serve_forever()

# Test fixture: listens on the given TCP ports (all addresses) and answers each connection with
# "<listen port> <original destination ip:port | none>\n", read via SO_ORIGINAL_DST (SOL_IP, 80);
# "none" = no conntrack entry; a tracked but un-NATed connection reports its own destination.
import socket, struct, sys, threading

SO_ORIGINAL_DST = 80

def orig_dst(conn):
    try:
        raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        port, = struct.unpack('!H', raw[2:4])
        return '%s:%d' % (socket.inet_ntoa(raw[4:8]), port)
    except OSError:
        return 'none'

def serve(sock, port):
    while True:
        conn, _ = sock.accept()
        with conn:
            conn.sendall(('%d %s\n' % (port, orig_dst(conn))).encode())

for p in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', int(p)))
    s.listen(16)
    threading.Thread(target=serve, args=(s, int(p)), daemon=True).start()
print('ready', flush=True)
sys.stdin.read()  # exit when the test closes our stdin

# Test fixture: connects to argv[1]:argv[2] (optionally with SO_MARK argv[3]) and prints the reply.
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if len(sys.argv) > 3:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(sys.argv[3], 0))
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
data = b''
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())

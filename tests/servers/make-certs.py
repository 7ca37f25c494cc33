#!/usr/bin/python3
"""Makes a throwaway test CA and the server certificates the SMTP tests need, into DIR:
ca.pem; good.pem/good.key (localhost, 127.0.0.1); expired.pem/expired.key; wronghost.pem/wronghost.key;
selfsigned.pem/selfsigned.key (not signed by the CA)."""
import datetime
import ipaddress
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def write(name, cert, private_key):
    with open(f"{out}/{name}.pem", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    if private_key is not None:
        with open(f"{out}/{name}.key", "wb") as f:
            f.write(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))


def name(common):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mailroom Tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


ca_key = key()
ca = (x509.CertificateBuilder().subject_name(name("Mailroom Test CA")).issuer_name(name("Mailroom Test CA"))
      .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                   key_encipherment=False, data_encipherment=False, key_agreement=False,
                                   encipher_only=False, decipher_only=False), critical=True)
      .sign(ca_key, hashes.SHA256()))
write("ca", ca, ca_key)


def server(file, common, names, before, after, issuer=ca, issuer_key=ca_key):
    server_key = key()
    subject = name(common)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.subject if issuer is not None else subject)
               .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(before).not_valid_after(after)
               .add_extension(x509.SubjectAlternativeName(names), critical=False)
               .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    cert = builder.sign(issuer_key if issuer_key is not None else server_key, hashes.SHA256())
    write(file, cert, server_key)


loopback = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
server("good", "localhost", loopback, now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650))
server("expired", "localhost", loopback, now - datetime.timedelta(days=400), now - datetime.timedelta(days=30))
server("wronghost", "mail.elsewhere.example", [x509.DNSName("mail.elsewhere.example")],
       now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650))
server("selfsigned", "localhost", loopback, now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650),
       issuer=None, issuer_key=None)
# The Exchange stand-in answers for made-up domains (resolved by the tests' own GResolver).
server("exchange", "mail.example.test",
       loopback + [x509.DNSName("example.test"), x509.DNSName("*.example.test"), x509.DNSName("*.example.net")],
       now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650))

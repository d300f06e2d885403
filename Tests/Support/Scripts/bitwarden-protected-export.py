#!/usr/bin/env python3
"""Writes a password-protected Bitwarden JSON export, as Bitwarden's clients do, without Coffer's code.

Usage: bitwarden-protected-export.py PLAIN.json PASSWORD pbkdf2|argon2id OUT.json

Key derivation with Python's hashlib (PBKDF2) or libargon2 through ctypes (Argon2id), HKDF-Expand
and HMAC with the standard library, AES-256-CBC with the openssl command: an implementation
independent of the one under test, following Bitwarden's documented layout.
"""
import base64
import ctypes
import hashlib
import hmac
import json
import os
import subprocess
import sys

plain_path, password, kdf, out_path = sys.argv[1:5]
salt = base64.b64encode(os.urandom(16)).decode()  # Bitwarden uses the base64 text itself as the salt
password_bytes = password.encode()

if kdf == "pbkdf2":
    header = {"kdfType": 0, "kdfIterations": 600000, "kdfMemory": None, "kdfParallelism": None}
    key = hashlib.pbkdf2_hmac("sha256", password_bytes, salt.encode(), 600000, 32)
else:
    header = {"kdfType": 1, "kdfIterations": 3, "kdfMemory": 64, "kdfParallelism": 4}
    argon2 = ctypes.CDLL("libargon2.so.1")
    # Declared so the size_t arguments are passed whole, not as C ints.
    argon2.argon2id_hash_raw.argtypes = [
        ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    argon_salt = hashlib.sha256(salt.encode()).digest()
    output = ctypes.create_string_buffer(32)
    status = argon2.argon2id_hash_raw(
        3, 64 * 1024, 4, password_bytes, len(password_bytes), argon_salt, len(argon_salt), output, 32)
    assert status == 0, status
    key = output.raw


def expand(info):
    # HKDF-Expand with one block: T(1) = HMAC(PRK, info || 0x01).
    return hmac.new(key, info.encode() + b"\x01", hashlib.sha256).digest()


enc_key, mac_key = expand("enc"), expand("mac")


def enc_string(data):
    iv = os.urandom(16)
    ciphertext = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", enc_key.hex(), "-iv", iv.hex()],
        input=data, capture_output=True, check=True).stdout
    mac = hmac.new(mac_key, iv + ciphertext, hashlib.sha256).digest()
    return "2." + "|".join(base64.b64encode(part).decode() for part in (iv, ciphertext, mac))


with open(plain_path, "rb") as plain:
    payload = plain.read()
export = {"encrypted": True, "passwordProtected": True, "salt": salt, **header,
          "encKeyValidation_DO_NOT_EDIT": enc_string(os.urandom(16).hex().encode()), "data": enc_string(payload)}
with open(out_path, "w") as out:
    json.dump(export, out, indent=2)

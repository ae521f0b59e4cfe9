"""Imported by the worker forkserver: Scapy loaded and every cache built before any fork."""

from . import layers, service

layers.load()
service.warm_up()

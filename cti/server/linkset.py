"""Which link (and so which tenant and driver) serves which device."""

from __future__ import annotations

from cti.api.errors import NotFound, Unavailable
from cti.server.links import Link
from drivers.base import Driver


class LinkSet:
    def __init__(self, default_tenant: str) -> None:
        self.default_tenant = default_tenant
        self.links: dict[str, Link] = {}

    def add(self, link: Link) -> None:
        self.links[link.name] = link

    def tenant_of(self, link_name: str | None) -> str:
        link = self.links.get(link_name or "")
        return link.config.tenant if link is not None else self.default_tenant

    def scheme_of(self, link_name: str) -> str:
        link = self.links.get(link_name)
        return link.config.scheme if link is not None else "unknown"

    def serves(self, tenant: str, device: str) -> bool:
        return any(link.config.tenant == tenant and link.owns(device)
                   for link in self.links.values())

    def devices_of(self, tenant: str) -> list[str]:
        return [device for link in self.links.values() if link.config.tenant == tenant
                for device in link.config.devices]

    def route_devices_of(self, tenant: str) -> set[str]:
        """The pilot numbers the tenant's links route through CSTA routing services."""
        return {device for link in self.links.values() if link.config.tenant == tenant
                for device in link.config.route_devices}

    def driver_for(self, tenant: str, device: str) -> Driver:
        """The driver of the tenant's link that monitors `device` (404 / 503 otherwise)."""
        for link in self.links.values():
            if link.config.tenant == tenant and link.owns(device):
                if not link.up:
                    raise Unavailable(f"link {link.name} to the switch of {device} is down")
                return link.driver
        raise NotFound(f"no device {device}")

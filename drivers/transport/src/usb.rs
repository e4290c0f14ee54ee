//! Vendor-class and printer-class USB devices spoken to over bulk pipes with `rusb`.

use std::str::FromStr;
use std::time::Duration;

use rusb::{Context, DeviceHandle, Direction, TransferType, UsbContext};

use crate::{Link, LinkError};

/// A USB vendor and product ID, written `0400:c35a` as `lsusb` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbId {
    pub vid: u16,
    pub pid: u16,
}

impl std::fmt::Display for UsbId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vid, self.pid)
    }
}

impl FromStr for UsbId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (v, p) = s.split_once(':').ok_or_else(|| format!("expected VID:PID in hex, got {s:?}"))?;
        let parse = |x: &str| u16::from_str_radix(x, 16).map_err(|e| format!("{x:?} in {s:?}: {e}"));
        Ok(Self { vid: parse(v)?, pid: parse(p)? })
    }
}

/// Largest transfer read in one go; bigger than any answer of the devices we drive, so a device
/// never overflows the buffer (which libusb reports as an error, losing the data).
const SCRATCH: usize = 4096;

/// Which interface of a device to claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbInterface {
    Number(u8),
    /// The first interface of this class (7 = printer), wherever a composite device puts it.
    Class(u8),
}

/// One claimed interface of a USB device, with its first bulk OUT and bulk IN endpoints as the
/// default pipes and access to any other endpoint by address (the SAM module uses four).
pub struct UsbBulkDevice {
    handle: DeviceHandle<Context>,
    name: String,
    interface: u8,
    alt_setting: u8,
    ep_out: u8,
    /// Unidirectional printers (protocol 1) have no IN pipe and cannot report status.
    ep_in: Option<u8>,
    /// Bytes read from an endpoint but not yet handed out, per endpoint address.
    pending: Vec<(u8, Vec<u8>)>,
}

impl std::fmt::Debug for UsbBulkDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbBulkDevice").field("name", &self.name).finish_non_exhaustive()
    }
}

impl UsbBulkDevice {
    /// Opens the first device with this ID, detaches any kernel driver (usblp, cdc_acm) from
    /// the chosen interface and claims it.
    pub fn open(id: UsbId, which: UsbInterface) -> Result<Self, LinkError> {
        let name = format!("usb {id}");
        let open_err = |reason: String| LinkError::Open { device: name.clone(), reason };
        let ctx = Context::new().map_err(|e| open_err(format!("libusb: {e}")))?;
        let devices = ctx.devices().map_err(|e| open_err(format!("listing devices: {e}")))?;
        let device = devices
            .iter()
            .find(|d| {
                d.device_descriptor()
                    .map(|desc| desc.vendor_id() == id.vid && desc.product_id() == id.pid)
                    .unwrap_or(false)
            })
            .ok_or_else(|| LinkError::Disconnected { device: name.clone() })?;
        let name = format!("usb {}-{} {id}", device.bus_number(), device.address());
        let config = device.active_config_descriptor().map_err(|e| LinkError::Open {
            device: name.clone(),
            reason: format!("reading descriptors: {e}"),
        })?;
        let chosen = config.interfaces().flat_map(|i| i.descriptors()).find(|alt| match which {
            UsbInterface::Number(n) => alt.interface_number() == n,
            UsbInterface::Class(c) => alt.class_code() == c,
        });
        let Some(alt) = chosen else {
            return Err(LinkError::Open { device: name, reason: format!("no interface matching {which:?}") });
        };
        let (interface, alt_setting) = (alt.interface_number(), alt.setting_number());
        let (mut ep_out, mut ep_in) = (None, None);
        for ep in alt.endpoint_descriptors().filter(|e| e.transfer_type() == TransferType::Bulk) {
            match ep.direction() {
                Direction::Out => ep_out = ep_out.or(Some(ep.address())),
                Direction::In => ep_in = ep_in.or(Some(ep.address())),
            }
        }
        let Some(ep_out) = ep_out else {
            return Err(LinkError::Open {
                device: name,
                reason: format!("interface {interface} has no bulk OUT endpoint"),
            });
        };
        let handle = device.open().map_err(|e| match e {
            rusb::Error::Access => LinkError::Open {
                device: name.clone(),
                reason: "permission denied; install the kiosk's udev rules or run as root".into(),
            },
            rusb::Error::NoDevice => LinkError::Disconnected { device: name.clone() },
            e => LinkError::Open { device: name.clone(), reason: e.to_string() },
        })?;
        // Detaching fails harmlessly where no kernel driver is bound or the platform lacks it.
        let _ = handle.set_auto_detach_kernel_driver(true);
        handle.claim_interface(interface).map_err(|e| LinkError::Open {
            device: name.clone(),
            reason: format!("claiming interface {interface}: {e} (another program holds it?)"),
        })?;
        tracing::debug!(device = %name, interface, ep_out, ?ep_in, "usb interface claimed");
        Ok(Self { handle, name, interface, alt_setting, ep_out, ep_in, pending: Vec::new() })
    }

    fn map_err(&self, e: rusb::Error) -> LinkError {
        match e {
            rusb::Error::NoDevice | rusb::Error::Io | rusb::Error::Pipe => {
                LinkError::Disconnected { device: self.name.clone() }
            }
            e => LinkError::Io { device: self.name.clone(), source: std::io::Error::other(e) },
        }
    }

    /// Writes all of `bytes` to OUT endpoint `ep`.
    pub fn write_ep(&mut self, ep: u8, bytes: &[u8], timeout: Duration) -> Result<(), LinkError> {
        let mut sent = 0;
        while sent < bytes.len() {
            sent += self.handle.write_bulk(ep, &bytes[sent..], timeout).map_err(|e| self.map_err(e))?;
        }
        Ok(())
    }

    /// Reads from IN endpoint `ep`; `Ok(0)` when nothing arrived within `timeout`.
    pub fn read_ep(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        if let Some(slot) = self.pending.iter_mut().find(|(e, p)| *e == ep && !p.is_empty()) {
            let n = buf.len().min(slot.1.len());
            buf[..n].copy_from_slice(&slot.1[..n]);
            slot.1.drain(..n);
            return Ok(n);
        }
        let mut scratch = vec![0u8; SCRATCH];
        let got = match self.handle.read_bulk(ep, &mut scratch, timeout) {
            Ok(n) => n,
            Err(rusb::Error::Timeout) => 0,
            Err(e) => return Err(self.map_err(e)),
        };
        let n = buf.len().min(got);
        buf[..n].copy_from_slice(&scratch[..n]);
        if got > n {
            match self.pending.iter_mut().find(|(e, _)| *e == ep) {
                Some(slot) => slot.1.extend_from_slice(&scratch[n..got]),
                None => self.pending.push((ep, scratch[n..got].to_vec())),
            }
        }
        scratch.fill(0);
        Ok(n)
    }

    /// A class-specific control request to the claimed interface, device to host. `index_high`
    /// goes into the high byte of wIndex with the interface number, as printer-class requests
    /// want (`interface << 8 | alternate setting` for GET_DEVICE_ID).
    pub fn class_request_in(
        &mut self,
        request: u8,
        value: u16,
        alt_in_index: bool,
        buf: &mut [u8],
    ) -> Result<usize, LinkError> {
        let request_type =
            rusb::request_type(Direction::In, rusb::RequestType::Class, rusb::Recipient::Interface);
        let index = if alt_in_index {
            (u16::from(self.interface) << 8) | u16::from(self.alt_setting)
        } else {
            u16::from(self.interface)
        };
        self.handle
            .read_control(request_type, request, value, index, buf, Duration::from_secs(1))
            .map_err(|e| self.map_err(e))
    }

    /// Drops what was read ahead from every endpoint.
    pub fn clear_pending(&mut self) {
        for (_, p) in &mut self.pending {
            p.fill(0);
            p.clear();
        }
    }
}

impl Drop for UsbBulkDevice {
    fn drop(&mut self) {
        self.clear_pending();
        let _ = self.handle.release_interface(self.interface);
    }
}

impl Link for UsbBulkDevice {
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.write_ep(self.ep_out, bytes, Duration::from_secs(2))
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        match self.ep_in {
            Some(ep) => self.read_ep(ep, buf, timeout),
            None => Err(LinkError::Unsupported {
                device: self.name.clone(),
                what: "reading (unidirectional USB printer, so it cannot report status)",
            }),
        }
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.clear_pending();
        Ok(())
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_ids_parse_like_lsusb_prints_them() {
        let id: UsbId = "0400:C35A".parse().unwrap();
        assert_eq!(id, UsbId { vid: 0x0400, pid: 0xc35a });
        assert_eq!(id.to_string(), "0400:c35a");
        assert!("0400".parse::<UsbId>().is_err());
        assert!("zz:0001".parse::<UsbId>().is_err());
    }
}

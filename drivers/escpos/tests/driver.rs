//! The printer driver over real transports (pseudo-terminal, loopback TCP, a device-file path,
//! a plain file) against the simulator, including faults.

use kiosk_escpos::sim::{Printed, PrinterSim, SimServer};
use kiosk_escpos::{Device, Paper, Printer, PrinterError, Slip, profile, test_slip};

fn slip() -> Slip {
    Slip::new()
        .title("申请回执")
        .kv("业务编号", "NH20261127000123")
        .qr("https://x.example/t/1")
        .barcode("20261127000123")
        .cut()
}

fn open(server: &SimServer) -> Printer {
    Printer::open(&server.device.parse().unwrap(), None).expect("printer opens")
}

#[test]
fn device_addresses_parse() {
    assert_eq!("usb:0fe6:811e".parse::<Device>().unwrap(), Device::Usb("0fe6:811e".parse().unwrap()));
    assert_eq!("lp:/dev/usb/lp0".parse::<Device>().unwrap(), Device::Lp("/dev/usb/lp0".into()));
    assert_eq!(
        "serial:/dev/ttyS1@9600".parse::<Device>().unwrap(),
        Device::Serial { path: "/dev/ttyS1".into(), baud: 9600 }
    );
    assert_eq!(
        "serial:/dev/ttyS1".parse::<Device>().unwrap(),
        Device::Serial { path: "/dev/ttyS1".into(), baud: 115_200 }
    );
    assert_eq!("tcp:10.0.0.5:9100".parse::<Device>().unwrap(), Device::Tcp("10.0.0.5:9100".into()));
    assert!("printer".parse::<Device>().is_err());
    assert!("serial:/dev/ttyS1@fast".parse::<Device>().is_err());
}

#[test]
fn prints_and_reads_status_over_serial_and_tcp() {
    for server in [SimServer::pty(PrinterSim::new()).unwrap(), SimServer::tcp(PrinterSim::new()).unwrap()] {
        let mut printer = open(&server);
        let status = printer.status().unwrap();
        assert!(status.ready(), "{}: {status:?}", server.device);
        let report = printer.print(&slip()).unwrap();
        assert!(report.status.unwrap().ready());
        let sim = server.sim();
        assert!(sim.lines().contains(&"业务编号：NH20261127000123".to_owned()), "{:?}", sim.lines());
        assert!(matches!(sim.printed().last(), Some(Printed::Cut { .. })));
    }
}

#[test]
fn a_device_file_works_like_usblp() {
    // A pty slave stands in for /dev/usb/lp0: a character device read by a helper thread.
    let server = SimServer::pty(PrinterSim::new()).unwrap();
    let path = server.device.strip_prefix("serial:").unwrap();
    let mut printer = Printer::open(&Device::Lp(path.into()), Some(&profile::GB2312_58)).unwrap();
    assert!(printer.status().unwrap().ready());
    printer.print(&test_slip(printer.profile(), "lp")).unwrap();
    assert!(server.sim().lines().iter().any(|l| l.contains("gb2312-58mm")));
}

#[test]
fn paper_near_end_is_a_warning_and_paper_end_refuses() {
    let server = SimServer::tcp(PrinterSim::new()).unwrap();
    let mut printer = open(&server);
    server.sim().set_near_end(true);
    let report = printer.print(&slip()).unwrap();
    assert_eq!(report.status.unwrap().paper, Paper::NearEnd);

    server.sim().run_out_of_paper();
    let printed = server.sim().printed().len();
    match printer.print(&slip()) {
        Err(PrinterError::NotReady(s)) => {
            assert_eq!(s.paper, Paper::End);
            assert!(s.problems().iter().any(|p| p.contains("out of paper")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.sim().printed().len(), printed, "nothing was sent to a printer without paper");
}

#[test]
fn a_slip_cut_short_by_paper_end_is_reported_not_lost() {
    let server = SimServer::pty(PrinterSim::new()).unwrap();
    let mut printer = open(&server);
    server.sim().faults.paper_end_after_lines = Some(2);
    let err = printer.print(&test_slip(printer.profile(), "pty")).unwrap_err();
    match &err {
        PrinterError::Interrupted { status, sent } => {
            assert_eq!(status.paper, Paper::End);
            assert!(*sent > 1000);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("printed again"), "{err}");
    assert_eq!(server.sim().lines().len(), 2);
    // A new roll: the printer prints what it held, and works again.
    server.sim().load_paper();
    assert!(printer.status().unwrap().ready());
}

#[test]
fn cover_open_and_cutter_jam() {
    let server = SimServer::tcp(PrinterSim::new()).unwrap();
    let mut printer = open(&server);
    server.sim().open_cover();
    assert!(matches!(printer.print(&slip()), Err(PrinterError::NotReady(s)) if s.cover_open));
    server.sim().close_cover();
    server.sim().faults.jam_next_cut = true;
    match printer.print(&slip()) {
        Err(PrinterError::Interrupted { status, .. }) => assert!(status.cutter_error),
        other => panic!("{other:?}"),
    }
    server.sim().clear_cutter();
    assert!(printer.print(&slip()).is_ok());
}

#[test]
fn file_capture_has_no_status_but_keeps_the_bytes() {
    let path = std::env::temp_dir().join(format!("kiosk-escpos-{}.bin", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut printer = Printer::open(&Device::File(path.to_string_lossy().into()), None).unwrap();
    assert!(matches!(
        printer.status(),
        Err(PrinterError::Link(kiosk_transport::LinkError::Unsupported { .. }))
    ));
    let report = printer.print(&slip()).unwrap();
    assert_eq!(report.status, None);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), report.bytes);
    let mut sim = PrinterSim::new();
    sim.feed(&bytes);
    assert_eq!(sim.lines()[0], "申请回执");
}

#[test]
fn a_dead_printer_is_named_in_the_error() {
    let server = SimServer::tcp(PrinterSim::new()).unwrap();
    let device = server.device.clone();
    drop(server);
    let err = Printer::open(&device.parse().unwrap(), None).unwrap_err();
    assert!(err.to_string().contains(device.trim_start_matches("tcp:")), "{err}");
}

#[test]
fn status_reports_arrive_by_themselves_and_survive_a_slip() {
    use std::time::Duration;
    let server = SimServer::tcp(PrinterSim::new()).unwrap();
    let mut printer = open(&server);
    assert!(printer.port_status().is_none(), "no IEEE 1284 port status over TCP");
    printer.enable_status_reports().unwrap();
    let first =
        printer.status_change(Duration::from_secs(2)).unwrap().expect("the current status on switching on");
    assert!(first.ready());
    printer.print(&slip()).unwrap();
    server.sim().open_cover();
    let mut seen = None;
    for _ in 0..10 {
        match printer.status_change(Duration::from_millis(500)).unwrap() {
            Some(s) if s.cover_open => {
                seen = Some(s);
                break;
            }
            _ => {}
        }
    }
    assert!(seen.is_some_and(|s| !s.ready()), "the opened cover was reported without being asked");
}

//! Test hosts: one network namespace per process (each instance, Redis, Qelos), joined to the
//! suite's own namespace by a veth pair, so a link can be cut (`ip link set … down`) and
//! restored. Where namespaces cannot be made (not root, no `ip`, a sandbox that refuses
//! `ip netns add`), every host is `127.0.0.1` and a cut link is emulated by the proxy in front
//! of the host going silent.

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};

/// One test host.
#[derive(Clone, Debug)]
pub(crate) struct Host {
    pub(crate) name: String,
    /// The host's own address (where its process listens).
    pub(crate) ip: IpAddr,
    /// The suite's address as the host sees it (where the proxies listen).
    pub(crate) gateway: IpAddr,
    /// The namespace, when the suite runs with namespaces.
    pub(crate) netns: Option<String>,
    /// The suite's end of the veth pair.
    link: Option<String>,
}

impl Host {
    /// `program args…` run on this host.
    pub(crate) fn command(&self, program: &std::path::Path) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }
}

/// The set of test hosts of one run.
pub(crate) struct Network {
    pub(crate) hosts: Vec<Host>,
    /// Why namespaces are not used, when they are not.
    pub(crate) fallback: Option<String>,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Network {
    /// Hosts named `names`, each in its own namespace, or all on loopback when namespaces are
    /// unavailable (`loopback` forces that).
    pub(crate) fn create(names: &[&str], loopback: bool) -> Self {
        if loopback {
            return Self::loopback(names, "asked for (--loopback)".into());
        }
        match Self::namespaces(names) {
            Ok(net) => net,
            Err(e) => Self::loopback(names, e),
        }
    }

    fn loopback(names: &[&str], why: String) -> Self {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        Self {
            hosts: names
                .iter()
                .map(|n| Host {
                    name: (*n).to_owned(),
                    ip: lo,
                    gateway: lo,
                    netns: None,
                    link: None,
                })
                .collect(),
            fallback: Some(why),
        }
    }

    fn namespaces(names: &[&str]) -> Result<Self, String> {
        let pid = std::process::id();
        // A /30 per host in 10.213.0.0/16, offset by the process id so two runs do not collide.
        let base = (pid % 32) * 8;
        let mut net = Self {
            hosts: Vec::new(),
            fallback: None,
        };
        for (i, name) in names.iter().enumerate() {
            let ns = format!("qf{pid}-{name}");
            let outer = format!("qf{pid}o{i}");
            let inner = format!("qf{pid}i{i}");
            let third = base + u32::try_from(i).unwrap_or(0);
            let gw = Ipv4Addr::new(10, 213, u8::try_from(third).unwrap_or(250), 1);
            let me = Ipv4Addr::new(10, 213, u8::try_from(third).unwrap_or(250), 2);
            ip(&["netns", "add", &ns])?;
            // Registered at once so a failure half way still removes what was made.
            net.hosts.push(Host {
                name: (*name).to_owned(),
                ip: IpAddr::V4(me),
                gateway: IpAddr::V4(gw),
                netns: Some(ns.clone()),
                link: Some(outer.clone()),
            });
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", &inner,
            ])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            ip(&["addr", "add", &format!("{gw}/30"), "dev", &outer])?;
            ip(&["link", "set", &outer, "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{me}/30"), "dev", &inner])?;
            ip(&["-n", &ns, "link", "set", &inner, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(net)
    }

    pub(crate) fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    pub(crate) fn namespaces_in_use(&self) -> bool {
        self.fallback.is_none()
    }

    /// Cuts (`up = false`) or restores the host's link. `false` when there is no link to cut
    /// (loopback): the caller emulates the cut at the proxy.
    pub(crate) fn set_link(&self, name: &str, up: bool) -> bool {
        let Some(link) = self.host(name).and_then(|h| h.link.clone()) else {
            return false;
        };
        ip(&["link", "set", &link, if up { "up" } else { "down" }]).is_ok()
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for h in &self.hosts {
            if let Some(ns) = &h.netns {
                // Deleting the namespace deletes the veth pair with it.
                let _ = ip(&["netns", "del", ns]);
            }
            if let Some(link) = &h.link {
                let _ = ip(&["link", "del", link]);
            }
        }
    }
}

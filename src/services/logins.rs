//! Logging in against guessing and floods.
//!
//! - After a few wrong passwords, an account waits before the next try, longer each time (1 s,
//!   2 s, 4 s, ... up to 15 min); so does an address that tries many accounts. The wait is
//!   answered at once (429 with `Retry-After`), without checking the password.
//! - Checking a password takes about 19 MiB (argon2) on a blocking thread: only a few run at
//!   once, the others wait their turn, so a flood of logins cannot take the hub's memory.
//!
//! Kept in memory: a restart forgets the strikes (the audit trail keeps the failures).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Wrong passwords an account may type before it waits.
pub const ACCOUNT_FREE_TRIES: u32 = 5;
/// Failed logins an address may make (any accounts) before it waits.
pub const ADDRESS_FREE_TRIES: u32 = 20;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Strikes older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Beyond this many tracked names or addresses, the oldest quiet ones are dropped.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Strikes {
    failures: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
struct Tracked {
    accounts: HashMap<String, Strikes>,
    addresses: HashMap<IpAddr, Strikes>,
}

pub struct LoginGuard {
    tracked: Mutex<Tracked>,
    hashing: Semaphore,
}

impl Default for LoginGuard {
    /// As many password checks at once as cores (2 to 4), or `CHEVET_LOGIN_CHECKS`.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let checks = std::env::var("CHEVET_LOGIN_CHECKS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cores.clamp(2, 4));
        LoginGuard::new(checks)
    }
}

/// The wait after `failures` strikes when `free` are allowed: none, then 1 s doubling to the max.
fn wait_after(failures: u32, free: u32) -> Option<Duration> {
    let over = failures.checked_sub(free)?;
    let secs = 1u64.checked_shl(over).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

fn account_key(username: &str) -> String {
    username.trim().to_lowercase()
}

fn strike<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Strikes>, key: K, free: u32, now: Instant) {
    if map.len() >= MAX_TRACKED {
        map.retain(|_, s| now.duration_since(s.last) < FORGET_AFTER);
    }
    let s = map.entry(key).or_insert(Strikes {
        failures: 0,
        last: now,
        blocked_until: None,
    });
    if now.duration_since(s.last) >= FORGET_AFTER {
        s.failures = 0;
    }
    s.failures = s.failures.saturating_add(1);
    s.last = now;
    s.blocked_until = wait_after(s.failures, free).map(|w| now + w);
}

fn waiting<K: std::hash::Hash + Eq>(
    map: &HashMap<K, Strikes>,
    key: &K,
    now: Instant,
) -> Option<Duration> {
    map.get(key)?
        .blocked_until
        .filter(|until| *until > now)
        .map(|until| until - now)
}

impl LoginGuard {
    /// A guard letting `concurrent` password checks run at once.
    pub fn new(concurrent: usize) -> LoginGuard {
        LoginGuard {
            tracked: Mutex::default(),
            hashing: Semaphore::new(concurrent.max(1)),
        }
    }

    /// How long this account or this address must still wait before trying again, if at all.
    pub fn must_wait(&self, username: &str, addr: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let t = self.tracked.lock().unwrap_or_else(|e| e.into_inner());
        let by_account = waiting(&t.accounts, &account_key(username), now);
        let by_address = addr.and_then(|a| waiting(&t.addresses, &a, now));
        by_account.max(by_address)
    }

    /// A wrong password (or an unknown account): one more strike for both.
    pub fn failed(&self, username: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut t = self.tracked.lock().unwrap_or_else(|e| e.into_inner());
        strike(
            &mut t.accounts,
            account_key(username),
            ACCOUNT_FREE_TRIES,
            now,
        );
        if let Some(a) = addr {
            strike(&mut t.addresses, a, ADDRESS_FREE_TRIES, now);
        }
    }

    /// The right password: the account starts afresh (the address keeps its strikes: it may be
    /// guessing other accounts).
    pub fn succeeded(&self, username: &str) {
        let mut t = self.tracked.lock().unwrap_or_else(|e| e.into_inner());
        t.accounts.remove(&account_key(username));
    }

    /// A turn to check a password; waits while the others' checks run.
    pub async fn hashing_turn(&self) -> SemaphorePermit<'_> {
        self.hashing
            .acquire()
            .await
            .expect("the semaphore is never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_tries_and_stop_at_the_max() {
        assert_eq!(wait_after(5, 5), Some(Duration::from_secs(1)));
        assert_eq!(wait_after(4, 5), None);
        assert_eq!(wait_after(7, 5), Some(Duration::from_secs(4)));
        assert_eq!(wait_after(60, 5), Some(MAX_WAIT));
        assert_eq!(wait_after(u32::MAX, 5), Some(MAX_WAIT));
    }

    #[test]
    fn an_account_waits_after_its_free_tries_whatever_the_address() {
        let g = LoginGuard::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..ACCOUNT_FREE_TRIES - 1 {
            g.failed("Dr.Martin", Some(a));
        }
        assert_eq!(g.must_wait("dr.martin", Some(b)), None);
        g.failed("dr.martin ", Some(b));
        assert!(g.must_wait("DR.MARTIN", None).is_some());
        // Another account from the first address is free: that address made only five strikes.
        assert_eq!(g.must_wait("someone", Some(a)), None);
        g.succeeded("dr.martin");
        assert_eq!(g.must_wait("dr.martin", None), None);
    }

    #[test]
    fn an_address_trying_many_accounts_waits() {
        let g = LoginGuard::new(2);
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..ADDRESS_FREE_TRIES {
            g.failed(&format!("user{i}"), Some(a));
        }
        assert!(g.must_wait("anyone", Some(a)).is_some());
        assert_eq!(
            g.must_wait("anyone", Some("192.0.2.8".parse().unwrap())),
            None
        );
    }
}

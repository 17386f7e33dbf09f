//! How the outboxes (letters, nurse bookings, partner callbacks) space their attempts.

use std::time::Duration;

/// The delay before attempt `attempts + 1`: `base`, doubling with each attempt, at most `max`.
pub fn backoff(base: Duration, max: Duration, attempts: i64) -> Duration {
    let factor = 2u32.saturating_pow((attempts - 1).clamp(0, 16) as u32);
    base.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn doubles_from_the_base_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(30), Duration::from_secs(3600));
        assert_eq!(backoff(base, max, 0), base);
        assert_eq!(backoff(base, max, 1), base);
        assert_eq!(backoff(base, max, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, max, 3), Duration::from_secs(120));
        assert_eq!(backoff(base, max, 20), max);
        assert_eq!(backoff(Duration::MAX, max, 40), max);
    }
}

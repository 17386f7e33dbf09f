//! `Ts`: a UTC instant, stored as fixed-width RFC 3339 text (`2026-11-23T09:34:02.123456Z`) so
//! that text order is time order on both engines, and sent as RFC 3339 in JSON.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyTypeInfo, AnyValueRef};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Any, Database, Decode, Encode, Type};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Ts(pub DateTime<Utc>);

impl Ts {
    pub fn now() -> Ts {
        // Microsecond precision: what both engines' text round-trips exactly.
        let now = Utc::now();
        Ts(DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now))
    }

    pub fn to_db(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    pub fn parse(s: &str) -> Result<Ts, chrono::ParseError> {
        Ok(Ts(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc)))
    }

    pub fn plus(self, d: chrono::Duration) -> Ts {
        Ts(self.0 + d)
    }
}

impl Type<Any> for Ts {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Ts {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Any>>::decode(value)?;
        Ok(Ts::parse(text)?)
    }
}

impl<'q> Encode<'q, Any> for Ts {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Any>>::encode(self.to_db(), buf)
    }
}

impl utoipa::PartialSchema for Ts {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type as T};
        ObjectBuilder::new()
            .schema_type(T::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("UTC instant, RFC 3339"))
            .into()
    }
}

impl utoipa::ToSchema for Ts {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_sorts_as_time() {
        let a = Ts::parse("2026-11-23T09:00:00Z").unwrap();
        let b = a.plus(chrono::Duration::microseconds(1));
        let c = a.plus(chrono::Duration::days(400));
        assert!(a.to_db() < b.to_db() && b.to_db() < c.to_db());
        assert_eq!(a.to_db().len(), c.to_db().len());
        assert_eq!(Ts::parse(&b.to_db()).unwrap(), b);
    }
}

//! Typed ids: mixing a customer id with an equipment id is a compile error.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        /// Read from a row (`#[sqlx(try_from = "i64")]` in the store).
        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

typed_id!(
    UserId,
    CustomerId,
    ContactPersonId,
    EquipmentId,
    AuditId,
    TicketId,
    VisitId,
    PhotoId,
    ContactId,
    PartId,
    WarehouseId,
    MovementId,
    RequisitionId,
    ShortageId,
    DefectiveId,
    PhraseId,
    ShiftId,
    PenaltyId,
    NotificationId,
    AttachmentId,
    FaultTypeId,
    MailId,
    SuggestionId,
    RobotId,
    InspectionId,
    InspectionItemId,
    ChecklistItemId,
    VehicleId,
    TripId,
    TripStopId,
    TripItemId,
    RectificationId,
    MeetingId,
    AgendaId,
    PlanItemId,
    TrainingId,
    ArticleId,
    AppraisalId,
);

//! What a user is told in the product (the bell): one kind per reason.

string_enum!(
    /// Why a notification was sent; the page words it from its arguments.
    NotificationKind {
        /// A technician was scheduled on a ticket.
        Assigned = "assigned",
        Escalated = "escalated",
        /// A technician on site asks the engineer to escalate.
        EscalationRequested = "escalation_requested",
        Declined = "declined",
        SlaBreach = "sla_breach",
        /// The SLA sweep's one line for many tickets at once (no ticket).
        SlaBreachMany = "sla_breach_many",
        /// A resolved ticket waits for its callback.
        CallbackDue = "callback_due",
        Complaint = "complaint",
        ComplaintReviewed = "complaint_reviewed",
        Suggestion = "suggestion",
        MissedCallOverdue = "missed_call_overdue",
        /// A part fell below its reserve quota (managers and storekeepers).
        Shortage = "shortage",
        /// A requisition was approved: the storekeeper issues it.
        RequisitionApproved = "requisition_approved",
        ShortageOverdue = "shortage_overdue",
        /// The desk agreed a visit time with the school: the technicians are told.
        VisitAgreed = "visit_agreed",
        /// The engineer sent a visit back to its technicians with a note.
        VisitReturned = "visit_returned",
        /// A consultation was handed to the engineers (转工程师).
        ConsultationToEngineer = "consultation_to_engineer",
        /// The engineer answered it: the agent passes the answer on.
        ConsultationAnswered = "consultation_answered",
        /// An upgrade or replacement was suggested for a piece of equipment.
        EquipmentSuggested = "equipment_suggested",
        /// Inspections were planned for the technician.
        InspectionPlanned = "inspection_planned",
        /// The school says the inspector did not come (巡检回访).
        InspectionMissed = "inspection_missed",
    }
);

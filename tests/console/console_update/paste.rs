//! Pasted text (bracketed paste) is text for the focused field, never keys; approval comments
//! stop at `PutApprovalResult`'s 512 characters.

use super::*;

fn paste(s: &mut State, text: &str) -> Vec<Effect> {
    update(s, Action::Paste(text.into()))
}

fn comment(s: &State) -> (String, bool) {
    match &s.overlay {
        Some(Overlay::Approval(d)) => (d.comment.clone(), d.approve),
        other => panic!("approval dialog expected, got {other:?}"),
    }
}

#[test]
fn a_paste_on_the_approval_row_sends_nothing_and_says_why() {
    let mut s = on_row(false, "Approve", true);
    let effects = paste(&mut s, "approved by paste\n");
    assert!(effects.is_empty(), "{effects:?}");
    assert!(s.overlay.is_none(), "no dialog opens: {:?}", s.overlay);
    assert!(s.in_flight.is_empty());
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("paste ignored")),
        "{:?}",
        s.notices
    );
    // Pasting into a confirmation does not confirm it either.
    let mut s = on_row(false, "Staging", false);
    press(&mut s, "r");
    assert!(paste(&mut s, "y\r").is_empty());
    assert!(matches!(s.overlay, Some(Overlay::Confirm { .. })));
}

#[test]
fn a_paste_into_the_comment_is_text_only() {
    let mut s = on_row(false, "Approve", true);
    press(&mut s, "a");
    let effects = paste(&mut s, "looks\tgood\r\nto me\x1b[A\x07");
    assert!(runs(&effects).is_empty(), "a pasted newline does not send");
    let (text, approve) = comment(&s);
    assert_eq!(text, "looks good  to me[A");
    assert!(approve, "a pasted tab does not flip approve to reject");
    // Enter typed by the operator sends the pasted comment.
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(
        matches!(runs(&effects)[..], [Operation::Approve { comment, .. }]
        if comment == "looks good  to me[A")
    );
}

#[test]
fn pastes_fill_the_palette_filter_and_reason_fields() {
    let mut s = fixtures::loaded(false);
    press(&mut s, "/");
    paste(&mut s, "pay\nments");
    assert_eq!(
        s.filters.get(&View::Pipelines).map(String::as_str),
        Some("pay ments")
    );
    update(&mut s, code(KeyCode::Esc));
    press(&mut s, ":");
    paste(&mut s, "alarms\r");
    assert!(matches!(&s.overlay, Some(Overlay::Palette { input, .. }) if input == "alarms "));
    assert_eq!(s.view(), View::Pipelines, "the pasted return ran nothing");
}

#[test]
fn comments_stop_at_512_characters_typed_or_pasted() {
    let mut s = on_row(false, "Approve", true);
    press(&mut s, "a");
    press(&mut s, &"x".repeat(600));
    assert_eq!(comment(&s).0.chars().count(), 512);
    update(&mut s, code(KeyCode::Esc));
    press(&mut s, "a");
    paste(&mut s, &"é".repeat(600));
    assert_eq!(comment(&s).0.chars().count(), 512);
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("512 characters")),
        "{:?}",
        s.notices
    );
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(
        matches!(runs(&effects)[..], [Operation::Approve { comment, .. }]
        if comment.chars().count() == 512)
    );
}

using Portal.Idp;
using Portal.Web.Verification;
using Portal.Web.Verification.Methods;

namespace Portal.Web.Features.Verification;

/// <summary>
/// What the agent's pending page says about a challenge, in words, with the line to say or the next step. One place,
/// so the server's page and the polling script (which shows the server's text) never disagree.
/// </summary>
public static class PendingLabels
{
    public static string For(PendingPage page)
    {
        var stepUp = page.Method == VerificationMethods.OidcStepUp;
        var manager = page.Method == VerificationMethods.RecoveryManager;
        var callBack = page.Method == VerificationMethods.RecoveryCallBack;
        var idv = page.Method == VerificationMethods.RecoveryIdVerification;
        return page.State switch
        {
            ChallengeState.Waiting when idv => "Waiting for Okta to record the caller's ID verification…",
            ChallengeState.Approved when idv => "Verified: Okta recorded that the caller passed your organisation's ID verification. The caller is verified for what your organisation allows after a recovery.",
            ChallengeState.Rejected when idv && page.FailureReason == IdVerificationMethod.NotVerified =>
                "Not verified: Okta recorded that the caller's ID verification did not pass. Do not act on this account. Say: “I can’t make changes to this account today. Your security team will contact you.”",
            ChallengeState.Rejected when idv && page.FailureReason == IdVerificationMethod.NoDecision =>
                "Not verified: Okta recorded that the caller's ID verification ended without a decision (the verification vendor failed, or the check did not finish). This is not counted against the caller: start a new one, or verify the caller another way.",
            ChallengeState.Rejected when idv && page.FailureReason == IdVerificationMethod.ResultUsed =>
                "Refused: the ID verification Okta recorded already verified another call in this caller's name. Two people are calling as this caller. Do not act on this account. Your security team has been alerted.",
            ChallengeState.Rejected when idv && page.FailureReason == RecoveryChecks.CallerInactive =>
                "Refused: the caller's account was closed during the ID verification, so it cannot be recovered at the help desk. Escalate to your security team.",
            ChallengeState.Rejected when idv => "Refused: your organisation switched ID verification off during this call. Verify the caller another way.",
            ChallengeState.TimedOut when idv => "Timed out: Okta recorded no ID verification for the caller within twenty minutes. Start a new one if the caller still needs help.",
            ChallengeState.Waiting when callBack => "Waiting for the code from whoever answers the work phone on file…",
            ChallengeState.Approved when callBack => "Confirmed: who answered the number on file said the code. The caller is verified, weakly, for what your organisation allows after a call-back.",
            ChallengeState.Rejected or ChallengeState.TimedOut when callBack && page.FailureReason == CallBackMethod.NotMe =>
                "Reported. Who answered the number on file says they did not call the help desk: someone called in their name. Do not act on this account. Your security team has been alerted.",
            ChallengeState.Rejected when callBack && page.FailureReason == CallBackMethod.PhoneChanged =>
                "Refused: the work phone on file changed during the call-back. Do not act on this account. Your security team has been alerted.",
            ChallengeState.Rejected when callBack && page.FailureReason == RecoveryChecks.CallerInactive =>
                "Refused: the caller's account was closed during the call-back, so it cannot be recovered at the help desk. Escalate to your security team.",
            ChallengeState.Rejected when callBack && page.FailureReason == "heightened_mode" =>
                "Refused: heightened-threat mode was switched on during the call-back, and it does not accept a call-back. Verify the caller another way.",
            ChallengeState.Rejected when callBack && page.FailureReason == "recovery_not_enabled" =>
                "Refused: your organisation switched the call-back off during this call. Verify the caller another way.",
            ChallengeState.Rejected when callBack =>
                "Not confirmed: who answered the number on file did not say the right code. Do not act on this account. Start a new call-back only if you are sure you reached the person who called.",
            ChallengeState.TimedOut when callBack => "Timed out: the code was not confirmed within ten minutes. Start a new call-back if the caller still needs help.",
            ChallengeState.Waiting when manager => "Waiting for the manager to approve…",
            ChallengeState.Waiting => stepUp ? "Waiting for the caller to sign in…" : "Waiting for the caller…",
            ChallengeState.Approved when manager => "Approved by the manager. The caller is verified for what your organisation allows after a recovery.",
            ChallengeState.Rejected when manager && page.FailureReason is not (null or "manager_rejected") => ManagerSignInRefusal(page.FailureReason),
            ChallengeState.Rejected when manager =>
                "Rejected by the manager. Do not act on this account: the caller's manager did not approve. This was reported. Say: “I can’t make changes to this account today. Your security team will contact you.”",
            ChallengeState.TimedOut when manager => "Timed out: the manager did not approve in time. Call them again and start a new approval, or follow your organisation's procedure.",
            ChallengeState.Approved => "Approved. The caller is verified.",
            ChallengeState.Rejected when stepUp => StepUpRefusal(page.FailureReason),
            ChallengeState.Rejected when page.Method == VerificationMethods.EntraPush =>
                "Denied. Do not act on this account: the caller denied the Authenticator prompt. This was reported.",
            ChallengeState.Rejected =>
                "Rejected. Do not act on this account: the caller picked the wrong number or said it was not them. This was reported. Say: “I can’t make changes to this account today. Your security team will contact you.”",
            _ when stepUp => "Timed out: the link expired before the caller signed in. Start a new step-up if the caller is still on the line.",
            _ => "Timed out. The caller did not answer in time. Ask whether the push arrived, then send a new one or use a code.",
        };
    }

    /// <summary>An Entra manager approval (docs/recovery.md) that the manager's sign-in did not complete.</summary>
    private static string ManagerSignInRefusal(string? reason) => reason switch
    {
        "manager_signin_by_caller" => "Refused: the caller, not their manager, signed in with the manager's approval link. Do not act on this account. Your security team has been alerted.",
        "manager_signin_mismatch" => "Refused: someone other than the caller's manager signed in with the approval link. Do not act on this account. Your security team has been alerted.",
        "manager_timed_out" => "Timed out: the manager did not finish signing in within ten minutes. Call them again and start a new approval, or follow your organisation's procedure.",
        "mfa_missing" => "Refused: the manager signed in without a second factor. Call them again and start a new approval if they still vouch for the request.",
        "link_reused" => "Refused: the approval link was opened more than once. Start a new approval and tell your security team.",
        "code_attempts" => "Refused: the code was typed wrong too often. Start a new approval and read the new code slowly.",
        _ => "Refused: the manager's sign-in did not approve the request. Start a new approval or follow your organisation's procedure.",
    };

    private static string StepUpRefusal(string? reason) => reason switch
    {
        "subject_mismatch" => "Refused: someone other than this caller signed in. Do not act on this account. This was reported.",
        "mfa_missing" => "Refused: the caller signed in without a second factor. Say: “Please sign in again with your usual second factor, such as your authenticator app.” Then start a new step-up.",
        "auth_time_stale" or "auth_time_missing" => "Refused: the sign-in was not fresh. Start a new step-up and ask the caller to sign in again.",
        "link_reused" => "Refused: the link was opened more than once. Do not resend it: start a new step-up.",
        "code_attempts" => "Refused: the code was typed wrong too often. Start a new step-up and read the new code slowly.",
        "browser_mismatch" => "Refused: the sign-in finished in a different browser from the one that typed the code. Start a new step-up.",
        "idp_error" => "Refused: the caller's sign-in was cancelled or failed at their organisation. Start a new step-up if they want to try again.",
        "stepup_timed_out" => "Timed out: the caller did not finish signing in within ten minutes. Start a new step-up.",
        _ => "Refused: the step-up sign-in did not verify the caller. Start a new step-up or use another method.",
    };
}

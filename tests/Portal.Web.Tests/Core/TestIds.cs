using Portal.Web.Verification;

namespace Portal.Web.Tests.Core;

/// <summary>Ids as the portal parses them where they come in, for tests that hold one as text.</summary>
internal static class TestIds
{
    public static VerificationId Verification(string text) =>
        VerificationId.TryParse(text, out var id) ? id : throw new ArgumentException("Not a verification id: " + text, nameof(text));
}

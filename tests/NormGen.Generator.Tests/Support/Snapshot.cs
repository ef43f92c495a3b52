using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit;

namespace NormGen.Generator.Tests.Support;

/// <summary>
/// Approved-snapshot assertions over checked-in <c>Snapshots/*.verified.cs</c> files. On a difference the new
/// text is written beside it as <c>.received.cs</c> and the test fails. To accept every change in one step, run
/// the tests with <c>NORMGEN_ACCEPT_SNAPSHOTS=1</c> (the received text replaces the verified file).
/// </summary>
internal static class Snapshot
{
    public static void Verify(string name, string actual, [CallerFilePath] string callerPath = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        string verifiedPath = Path.Combine(directory, name + ".verified.cs");
        string receivedPath = Path.Combine(directory, name + ".received.cs");
        string scrubbed = Scrub(actual);

        bool accept = Environment.GetEnvironmentVariable("NORMGEN_ACCEPT_SNAPSHOTS") == "1";
        string? verified = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath).Replace("\r\n", "\n") : null;
        if (verified == scrubbed)
        {
            File.Delete(receivedPath);
            return;
        }
        if (accept)
        {
            File.WriteAllText(verifiedPath, scrubbed);
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, scrubbed);
        Assert.Fail(verified is null
            ? $"No approved snapshot {verifiedPath}; the generated text is in {receivedPath}. Review it, then run the tests with NORMGEN_ACCEPT_SNAPSHOTS=1 to accept."
            : $"The generated text differs from {verifiedPath}; see {receivedPath} (diff them). If the change is intended, run the tests with NORMGEN_ACCEPT_SNAPSHOTS=1.");
    }

    /// <summary>The generator's version changes with every release; the snapshot should not.</summary>
    private static string Scrub(string text) =>
        Regex.Replace(text.Replace("\r\n", "\n").TrimStart('\uFEFF'), "GeneratedCode\\(\"NormGen.Generator\", \"[^\"]*\"\\)", "GeneratedCode(\"NormGen.Generator\", \"{version}\")");
}

using System;
using System.IO;
using Xunit;

namespace NormGen.Package.Tests;

/// <summary>
/// Packs the NuGet package once for all tests, into a temporary folder, and lays out a fresh console project in
/// another one that can get NormGen only from there (see <see cref="ConsumerProject"/>), restored and ready to build.
/// </summary>
/// <remarks>
/// The pack builds into its own artifacts folder, so it neither reuses nor disturbs the repository's bin/obj. The
/// version is unique to the run (<c>0.1.0-test.&lt;ticks&gt;</c>) and the consumer restores into a packages folder of
/// its own, so no NuGet cache can hand it a package from an earlier run. Only NormGen is restored there: the
/// framework's reference packs come with the SDK.
/// </remarks>
public sealed class PackageFixture : IDisposable
{
    public PackageFixture()
    {
        RepositoryRoot = FindRepositoryRoot();
        WorkDirectory = Path.Combine(Path.GetTempPath(), "normgen-package-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Version = "0.1.0-test." + DateTime.UtcNow.Ticks;
        FeedDirectory = Path.Combine(WorkDirectory, "feed");
        Directory.CreateDirectory(FeedDirectory);

        Pack = Dotnet.Run(
            RepositoryRoot,
            "pack", Path.Combine(RepositoryRoot, "src", "NormGen", "NormGen.csproj"),
            "-c", "Release",
            "-o", FeedDirectory,
            "--artifacts-path", Path.Combine(WorkDirectory, "artifacts"),
            "-p:Version=" + Version,
            "-nodeReuse:false");
        PackagePath = Path.Combine(FeedDirectory, $"NormGen.{Version}.nupkg");
        if (Pack.ExitCode != 0 || !File.Exists(PackagePath))
        {
            throw new InvalidOperationException($"Packing NormGen failed; expected {PackagePath}.\n{Pack}");
        }

        ConsumerDirectory = Path.Combine(WorkDirectory, "consumer");
        ConsumerProject.Write(ConsumerDirectory, FeedDirectory, Path.Combine(WorkDirectory, "packages"), Version);
        CommandResult restore = Dotnet.Run(ConsumerDirectory, "restore", ConsumerProject.ProjectFile, "-nodeReuse:false");
        if (restore.ExitCode != 0)
        {
            throw new InvalidOperationException($"Restoring the consumer project failed.\n{restore}");
        }
    }

    /// <summary>The folder holding NormGen.sln.</summary>
    public string RepositoryRoot { get; }

    /// <summary>The temporary folder everything below lives in; deleted at the end.</summary>
    public string WorkDirectory { get; }

    /// <summary>The package version of this run.</summary>
    public string Version { get; }

    /// <summary>The local package source: the folder <c>dotnet pack</c> wrote to.</summary>
    public string FeedDirectory { get; }

    internal CommandResult Pack { get; }

    /// <summary>NormGen.&lt;Version&gt;.nupkg.</summary>
    public string PackagePath { get; }

    /// <summary>The fresh console project's folder (nuget.config, App/).</summary>
    public string ConsumerDirectory { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open (an exiting compiler server) must not fail the run; the folder is in /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NormGen.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No NormGen.sln above {AppContext.BaseDirectory}.");
    }
}

<#
.SYNOPSIS
  Install an rfarm buildlet as a Windows service (the shape of it).

.DESCRIPTION
  READ THIS FIRST: rfarm has no Windows port yet. The buildlet's
  operating-system seam (buildlet/os_posix.c: fork/exec, process groups,
  setuid, POSIX file modes) is POSIX-only today, so there is no rfarm.exe
  to install, and this script has never run. It is the shape the install
  will take once buildlet/os_windows.c exists, kept next to the Linux and
  macOS files so the three stay alike:

    - the token goes into a file whose ACL lets only the service's own
      account (a virtual account, NT SERVICE\<ServiceName>), SYSTEM and
      Administrators read it; it is never an argument of the service's
      command line (which any user can read with `sc.exe qc`);
    - the service runs `rfarm.exe buildlet --coordinator URL --token-file
      FILE --workdir DIR`, restarts on every failure, starts at boot.

  Two more things the port must settle, flagged where they matter below:
  rfarm.exe must answer the Service Control Manager (a plain console
  program is killed after 30 s with error 1053), or be run under a
  service wrapper (-Wrapper, e.g. WinSW or NSSM); and its token-file
  check tests POSIX mode bits (0600), which on Windows must become an
  ACL check like the one this script sets up.

  Tested here (test/e2e/test_provision.sh, on Linux): only statically:
  braces, brackets and parentheses balance, the parameters below exist,
  every `rfarm buildlet` flag used is one `rfarm buildlet --help` lists,
  and the token never reaches the command line. Not run here: PowerShell
  (pwsh is not packaged for Debian 12 here), Windows, the service.

.EXAMPLE
  # On the coordinator: rfarm enroll win-1 --host-type windows-amd64 --data /var/lib/rfarm
  # Copy the printed token to the Windows machine (e.g. into win-1.token), then:
  .\install-buildlet.ps1 -CoordinatorUrl https://coord.example:8443 `
      -Name win-1 -TokenSource .\win-1.token -CaFile .\coord.example.crt
  # and delete .\win-1.token.
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    # The coordinator, https://HOST:PORT.
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^(https|wss|http|ws)://')]
    [string] $CoordinatorUrl,

    # The name it was enrolled under (`rfarm enroll NAME`); the token
    # carries it too, and a different --name is refused.
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[A-Za-z0-9._-]+$')]
    [string] $Name,

    # Where the service reads its token from.
    [string] $TokenPath = "$env:ProgramData\rfarm\buildlet.token",

    # A file holding the token to install at TokenPath; without it the
    # token is asked for (not echoed).
    [string] $TokenSource,

    # The coordinator's certificate (what `rfarm certgen` wrote), if it
    # is not signed by a CA Windows trusts; or -Pin sha256:....
    [string] $CaFile,
    [ValidatePattern('^sha256:[0-9a-f]{64}$')]
    [string] $Pin,

    [string] $BinaryPath = "$env:ProgramFiles\rfarm\rfarm.exe",
    [string] $WorkDir = "$env:ProgramData\rfarm\work",
    [string] $ServiceName = 'rfarm-buildlet',
    [ValidateRange(1, 256)]
    [int] $Capacity = 1,

    # A service wrapper (WinSW, NSSM) until rfarm.exe answers the SCM.
    [string] $Wrapper
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$principal = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this from an elevated PowerShell (Administrator).'
}
if (-not (Test-Path -LiteralPath $BinaryPath -PathType Leaf)) {
    throw "No rfarm.exe at $BinaryPath (there is no Windows build of rfarm yet)."
}
$account = "NT SERVICE\$ServiceName"

# ---- the token: a file only the service account can read ----
function Install-Token {
    $dir = Split-Path -Parent $TokenPath
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    if ($TokenSource) {
        $token = (Get-Content -LiteralPath $TokenSource -Raw).Trim()
    } else {
        $secure = Read-Host -AsSecureString "Token for $Name (the last line rfarm enroll printed)"
        $token = [Net.NetworkCredential]::new('', $secure).Password.Trim()
    }
    if ($token -notmatch "^$([regex]::Escape($Name))\.[0-9a-f]{64}$") {
        throw "That is not a token for $Name (expected $Name.<64 hex digits>)."
    }
    # Create it empty, lock it down, then write: the secret is never in
    # a file others can read, not even for a moment.
    Set-Content -LiteralPath $TokenPath -Value '' -NoNewline -Encoding ascii
    & icacls.exe $TokenPath /inheritance:r /grant:r `
        "*S-1-5-18:(F)" "*S-1-5-32-544:(F)" "${account}:(R)" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls on $TokenPath failed ($LASTEXITCODE)" }
    Set-Content -LiteralPath $TokenPath -Value $token -NoNewline -Encoding ascii
    Remove-Variable token
}

# ---- the work directory: the service's, nobody else's ----
function Install-WorkDir {
    New-Item -ItemType Directory -Force -Path $WorkDir | Out-Null
    & icacls.exe $WorkDir /inheritance:r /grant:r `
        "*S-1-5-18:(OI)(CI)(F)" "*S-1-5-32-544:(OI)(CI)(F)" "${account}:(OI)(CI)(M)" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls on $WorkDir failed ($LASTEXITCODE)" }
}

# The command line the service runs: paths and flags, never the token.
function Get-BuildletArgs {
    $a = @('buildlet', '--coordinator', $CoordinatorUrl, '--name', $Name,
           '--token-file', $TokenPath, '--workdir', $WorkDir,
           '--capacity', "$Capacity")
    if ($CaFile) {
        $ca = Join-Path (Split-Path -Parent $TokenPath) 'coordinator.crt'
        Copy-Item -LiteralPath $CaFile -Destination $ca -Force
        $a += @('--ca', $ca)
    }
    if ($Pin) { $a += @('--pin', $Pin) }
    return $a
}

function Format-CommandLine([string[]] $argv) {
    ($argv | ForEach-Object { if ($_ -match '[\s"]') { '"' + ($_ -replace '"', '\"') + '"' } else { $_ } }) -join ' '
}

function Install-Service([string[]] $argv) {
    if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
        Stop-Service -Name $ServiceName -Force -ErrorAction SilentlyContinue
        & sc.exe delete $ServiceName | Out-Null
        Start-Sleep -Seconds 2
    }
    if ($Wrapper) {
        # NSSM's syntax; WinSW takes an XML file instead.
        & $Wrapper install $ServiceName $BinaryPath @argv
        if ($LASTEXITCODE -ne 0) { throw "$Wrapper install failed ($LASTEXITCODE)" }
    } else {
        # Needs an rfarm.exe that answers the Service Control Manager.
        $bin = '"' + $BinaryPath + '" ' + (Format-CommandLine $argv)
        New-Service -Name $ServiceName -BinaryPathName $bin `
            -DisplayName "rfarm buildlet ($Name)" -StartupType Automatic `
            -Description "Dials out to $CoordinatorUrl and runs build jobs." | Out-Null
    }
    # Its own virtual account, not LocalSystem.
    & sc.exe config $ServiceName obj= $account | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "sc.exe config obj= failed ($LASTEXITCODE)" }
    # Restart after every failure: 5 s, 5 s, then every 30 s; reset daily.
    & sc.exe failure $ServiceName reset= 86400 actions= restart/5000/restart/5000/restart/30000 | Out-Null
    & sc.exe failureflag $ServiceName 1 | Out-Null
}

if ($PSCmdlet.ShouldProcess($ServiceName, 'install the rfarm buildlet service')) {
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $TokenPath) | Out-Null
    $argv = Get-BuildletArgs
    # First the service: its virtual account exists only from then on,
    # and the ACLs below name it.
    Install-Service $argv
    Install-Token
    Install-WorkDir
    Start-Service -Name $ServiceName
    Write-Host ("Installed $ServiceName. On the coordinator, 'rfarm buildlets' " +
                "should list $Name as connected, credential enrolled.")
}

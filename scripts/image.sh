#!/bin/bash
# scripts/image.sh - the Debian image recipe, sourced by testbed.sh (the test image) and
# setup.sh (the base image labc-base, where no image server answers): debootstrap, then
# customize_image(). The caller defines log() and die(); MIRROR may be set before sourcing.
#
# Changing the recipe's values or the text of customize_image() changes the cache key, so
# every machine builds the image again: change them on purpose only.

# The image recipe: these values and the text of customize_image() make the cache key.
RECIPE_VERSION=1
IMAGE_RELEASE=bookworm
IMAGE_PACKAGES=systemd-sysv,openssh-server,sudo,iproute2,ifupdown,isc-dhcp-client,ca-certificates
: "${MIRROR:=http://deb.debian.org/debian}"
BUILD_DIR=

# customize_image DIR KEY: everything the image holds beyond debootstrap (DIR/rootfs), and
# its LXD metadata and templates.
customize_image() {
	local dir=$1 key=$2 root=$1/rootfs

	printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n' \
		>"$root/etc/network/interfaces"

	# Host keys and machine id belong to each container: made at its first boot, before
	# sshd starts. Ed25519 and ECDSA only: each takes milliseconds, where the RSA key that
	# 'ssh-keygen -A' would add takes 0.1-1.5 s (a random prime search) on every first boot,
	# and every client of the last ten years (OpenSSH, PuTTY, VS Code, JetBrains) takes one
	# of the two. sshd is told which keys to load.
	rm -f "$root"/etc/ssh/ssh_host_*
	: >"$root/etc/machine-id"
	cat >"$root/usr/local/sbin/labct-ssh-hostkeys" <<-'EOF'
	#!/bin/sh
	# This container's SSH host keys, made once at its first boot.
	for t in ed25519 ecdsa; do
		f=/etc/ssh/ssh_host_${t}_key
		[ -s "$f" ] && continue
		rm -f "$f" "$f.pub"
		ssh-keygen -q -N '' -t "$t" -f "$f" || exit 1
	done
	EOF
	chmod 755 "$root/usr/local/sbin/labct-ssh-hostkeys"
	mkdir -p "$root/etc/ssh/sshd_config.d"
	printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n' \
		>"$root/etc/ssh/sshd_config.d/labct-hostkeys.conf"
	cat >"$root/etc/systemd/system/labct-ssh-hostkeys.service" <<-'EOF'
	[Unit]
	Description=Generate this container's SSH host keys
	Before=ssh.service

	[Service]
	Type=oneshot
	ExecStart=/usr/local/sbin/labct-ssh-hostkeys

	[Install]
	WantedBy=ssh.service
	EOF
	mkdir -p "$root/etc/systemd/system/ssh.service.wants"
	ln -sf ../labct-ssh-hostkeys.service "$root/etc/systemd/system/ssh.service.wants/"

	# LXD writes these from the templates when a container is created or copied.
	: >"$root/etc/hostname"
	mkdir -p "$dir/templates"
	echo '{{ container.name }}' >"$dir/templates/hostname.tpl"
	cat >"$dir/templates/hosts.tpl" <<-'EOF'
	127.0.0.1	localhost
	127.0.1.1	{{ container.name }}
	::1	localhost ip6-localhost ip6-loopback
	ff02::1	ip6-allnodes
	ff02::2	ip6-allrouters
	EOF

	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/*

	cat >"$dir/metadata.yaml" <<-EOF
	architecture: $(uname -m)
	creation_date: $(date +%s)
	properties:
	  description: labcontainers test image (Debian $IMAGE_RELEASE, recipe $key)
	  os: debian
	  release: $IMAGE_RELEASE
	  labct.recipe: "$key"
	templates:
	  /etc/hostname:
	    when: [create, copy]
	    template: hostname.tpl
	  /etc/hosts:
	    when: [create, copy]
	    template: hosts.tpl
	EOF
}

recipe_key() {
	{
		echo "$RECIPE_VERSION $IMAGE_RELEASE $IMAGE_PACKAGES"
		declare -f customize_image
	} | sha256sum | cut -c1-12
}

# Removes the temporary build tree, also when a build fails half-way.
remove_build_dir() {
	[[ -n $BUILD_DIR ]] || return 0
	# A failed debootstrap can leave proc, sys or dev mounted inside the rootfs.
	awk -v d="$BUILD_DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
		xargs -r umount -l
	rm -rf --one-file-system "$BUILD_DIR"
	BUILD_DIR=
}

# build_image TARBALL KEY [DESCRIPTION]: debootstrap, customise, pack; the tarball appears
# atomically next to older ones of the same name-KEY.tar.gz family, which it then removes.
build_image() {
	local tarball=$1 key=$2 desc=${3:-} start=$SECONDS gzip=gzip dir family
	dir=$(dirname "$tarball")
	family=$(basename "$tarball" "-$key.tar.gz")
	command -v pigz >/dev/null && gzip=pigz
	mkdir -p "$dir"
	BUILD_DIR=$(mktemp -d "$dir/build.XXXXXX")
	trap remove_build_dir EXIT
	log "building image $key with debootstrap (about a minute)"
	debootstrap --variant=minbase --include="$IMAGE_PACKAGES" "$IMAGE_RELEASE" \
		"$BUILD_DIR/rootfs" "$MIRROR" >"$BUILD_DIR/debootstrap.log" 2>&1 || {
		tail -n 20 "$BUILD_DIR/debootstrap.log" >&2
		die "debootstrap failed (last lines above)"
	}
	customize_image "$BUILD_DIR" "$key"
	# The description is not part of the recipe: one recipe, test and base images alike.
	if [[ -n $desc ]]; then
		sed -i "s|^  description: .*|  description: $desc (Debian $IMAGE_RELEASE, recipe $key)|" \
			"$BUILD_DIR/metadata.yaml"
	fi
	tar --numeric-owner -C "$BUILD_DIR" -cf - metadata.yaml templates rootfs |
		"$gzip" -1 >"$BUILD_DIR/image.tar.gz"
	mv "$BUILD_DIR/image.tar.gz" "$tarball"
	remove_build_dir
	# Tarballs of older recipes are ours and no longer needed.
	find "$dir" -maxdepth 1 -name "$family-*.tar.gz" ! -path "$tarball" -delete
	log "built $tarball ($(du -m "$tarball" | cut -f1) MiB) in $((SECONDS - start)) s"
}
